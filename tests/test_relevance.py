"""The not-found decision: concept, domain-word, coverage and dense signals, per kind of question."""

from __future__ import annotations

from assistant.relevance import (
    CorpusStats,
    Thresholds,
    coverage,
    domain_evidence,
    english_prose,
    judge_relevance,
)
from assistant_fakes import FIXTURE_NOTES, fixture_chunks
from studygraph.records import Chunk, Hit

CHUNKS = fixture_chunks(FIXTURE_NOTES)
STATS = CorpusStats(CHUNKS)
BY_HEADING = {c.heading_path[-1]: c for c in CHUNKS}
LORA, PCA, ADAM = BY_HEADING["3.4 LoRA"], BY_HEADING["1.3 主成分分析（PCA）"], BY_HEADING["Adam"]


def hits(*chunks: Chunk, dense: float = 0.2) -> list[Hit]:
    return [Hit(rank=i, chunk=c, score=1.0 / i, scores={"dense": dense}) for i, c in enumerate(chunks, start=1)]


def test_words_characteristic_of_the_notes_are_domain_evidence_and_everyday_words_are_not():
    assert STATS.specificity("矩阵") > 3 > STATS.specificity("世界")
    assert domain_evidence("低秩矩阵为什么能减少参数", [LORA], STATS) >= Thresholds().domain
    # a question whose only shared word is an everyday one: a note that happens to say 数据 is no answer
    assert domain_evidence("天气数据从哪里下载", [PCA], STATS) < Thresholds().domain


def test_a_chinese_question_is_judged_by_concepts_and_domain_words_not_by_cosine():
    unrelated = judge_relevance("如何做红烧肉", hits(LORA, dense=0.9), STATS)
    assert not unrelated.relevant  # MiniLM's cosine between two Chinese texts means little
    assert judge_relevance("如何做红烧肉", hits(LORA), STATS, concepts=["c-lora"]).relevant
    assert judge_relevance("低秩矩阵为什么能减少参数", hits(LORA), STATS).relevant
    with_multilingual_embedder = Thresholds(cjk_dense=0.6)
    assert judge_relevance("如何做红烧肉", hits(LORA, dense=0.9), STATS, thresholds=with_multilingual_embedder).relevant


def test_an_english_question_over_chinese_notes_may_count_on_word_coverage():
    assert coverage("what does LoRA freeze", [LORA], STATS.idf) > 0.25
    assert judge_relevance("what does LoRA freeze", hits(LORA), STATS).relevant
    assert not judge_relevance("who won the 2018 World Cup", hits(LORA), STATS).relevant


def test_over_english_notes_word_coverage_does_not_count_only_the_cosine_does():
    assert english_prose([ADAM]) and not english_prose([LORA])
    question = "does adam keep running averages of the square"
    assert coverage(question, [ADAM], STATS.idf) > 0.5
    assert not judge_relevance(question, hits(ADAM, dense=0.2), STATS).relevant
    assert judge_relevance(question, hits(ADAM, dense=0.6), STATS).relevant


def test_numbers_never_count_as_found_words():
    note = LORA.model_copy(update={"text": "2018 年的笔记：LoRA 冻结权重。"})
    assert coverage("what happened in 2018", [note], STATS.idf) == 0.0


def test_no_passages_means_not_found():
    assert not judge_relevance("LoRA是什么", [], STATS, concepts=["c-lora"]).relevant


def test_a_question_about_names_the_notes_never_use_is_not_found_even_when_it_shares_a_concept_word():
    from assistant.relevance import missing_terms

    assert missing_terms("卡尔曼滤波的预测和更新步骤分别是什么", STATS) == ["卡尔曼滤波"]
    assert missing_terms("how does RLHF train its reward model", STATS) == ["RLHF"]
    assert missing_terms("LoRA 和 RLHF 有什么关系", STATS) == []  # it also names what the notes have
    assert missing_terms("低秩矩阵为什么能减少参数", STATS) == []
    decided = judge_relevance("how does RLHF train its reward model", hits(LORA, dense=0.9), STATS,
                              concepts=["c-lora"])
    assert not decided.relevant and decided.missing == ("RLHF",)


def test_a_vocabulary_concept_counts_as_present_by_any_of_its_names_and_as_one_name():
    from assistant.relevance import missing_terms

    lora = ("LoRA", "低秩适配", "Low-Rank Adaptation")
    em = ("EM算法", "EM algorithm", "期望最大化算法")
    # the notes say LoRA: a question naming it in Chinese is about something the notes have
    assert missing_terms("低秩适配为什么省参数", STATS, known=[("低秩适配", lora)]) == []
    # "EM" alone may be in the notes as some other abbreviation; the concept the question names is not
    notes_with_em = CorpusStats([*CHUNKS, CHUNKS[0].model_copy(update={"id": "em", "text": "指标: F1, EM"})])
    assert notes_with_em.df("em") > 0
    assert missing_terms("EM算法的E步和M步分别做什么", notes_with_em) == []
    assert missing_terms("EM算法的E步和M步分别做什么", notes_with_em, known=[("EM算法", em)]) == ["EM算法"]
    # a question about what the notes have, relating it to something they lack, is answerable...
    assert missing_terms("LoRA和EM算法有什么关系", notes_with_em, known=[("LoRA", lora), ("EM算法", em)]) == []
    # ...one about what they lack, relating it to what they have, is not
    assert missing_terms("EM算法和LoRA有什么区别", notes_with_em, known=[("EM算法", em), ("LoRA", lora)]) == ["EM算法"]
    # hyphenated or spaced, a name the notes use is present
    ffn = ("前馈网络", "feed-forward network")
    notes_ffn = CorpusStats([CHUNKS[0].model_copy(update={"id": "f", "text": "a feed forward network follows"})])
    assert missing_terms("what does the feed-forward network do", notes_ffn, known=[("feed-forward network", ffn)]) == []


def test_a_single_character_is_never_domain_evidence():
    cats = Chunk(id="cat", source="cv.md", section_id="cat", heading_path=("计算机视觉任务",), line_start=1, line_end=2,
                 text="如图像分类任务，如何把一张猫的图片分到猫的类别。\n猫、狗、猫和人的图片都是样本。", language="zh")
    stats = CorpusStats([cats])
    assert stats.specificity("猫") > Thresholds().domain  # the notes say 猫 far more often than Chinese at large...
    assert domain_evidence("怎么给猫剪指甲", [cats], stats) == 0.0  # ...yet a cat picture is no answer to this
    assert domain_evidence("猫的图片怎么分类", [cats], stats) > 0.0  # two-character words still count


def test_an_english_question_is_answerable_where_the_passages_name_its_concepts_in_chinese():
    automl = Chunk(id="automl", source="n.md", section_id="a", heading_path=("11.2 AutoML",), line_start=1, line_end=3,
                   text="Optuna超参优化：\n```python\nimport optuna\nstudy = optuna.create_study()\n```", language="zh")
    stats = CorpusStats([automl, *CHUNKS])
    known = [("hyperparameters", ("hyperparameter", "超参数", "超参")), ("Optuna", ("Optuna",))]
    question = "search hyperparameters automatically with Optuna"
    assert judge_relevance(question, hits(automl, dense=0.2), stats, known=known).relevant
    assert not judge_relevance(question, hits(automl, dense=0.2), stats).relevant  # no word of it is in Chinese notes
    # a technical term the notes lack keeps it out: the question is about CTC, not about the loss the notes name
    losses = Chunk(id="loss", source="n.md", section_id="l", heading_path=("损失函数",), line_start=5, line_end=5,
                   text="交叉熵损失衡量两个分布的差异。", language="zh")
    stats = CorpusStats([losses, *CHUNKS])
    known = [("loss", ("loss", "损失"))]
    assert judge_relevance("how is the loss defined", hits(losses, dense=0.2), stats, known=known).relevant
    assert not judge_relevance("how does the CTC loss align speech", hits(losses, dense=0.2), stats, known=known).relevant

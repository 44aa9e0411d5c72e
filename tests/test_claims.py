"""Claim checks: a sentence is accepted only when the unit it cites backs its words, terms, numbers, negations
and directional words; the labelled set measures the verifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.claims import check_claim, has_negation, load_lexicon, numbers_in, terms_in
from studygraph.errors import InputError

LABELLED = Path(__file__).parent / "data" / "claims-labelled.jsonl"
UNIT = "BERT 使用双向 Transformer 编码器，GPT 使用单向 Transformer 解码器。"


@pytest.mark.parametrize(("sentence", "reason"), [
    ("BERT 使用单向 Transformer 解码器 [1]。", "said of BERT"),
    ("GPT 不使用单向 Transformer 解码器 [1]。", "negated"),
    ("BERT 使用三层 Transformer 编码器 [1]。", "does not say 3"),
    ("ELMo 使用双向 Transformer 编码器 [1]。", "does not name ELMo"),
    ("卷积神经网络使用卷积层提取图像特征 [1]。", "words are in the passage"),
])
def test_corrupted_sentences_are_rejected_with_the_reason(sentence, reason):
    result = check_claim(sentence, UNIT, "zh")
    assert not result.ok
    assert any(reason in r for r in result.reasons), result.reasons


def test_a_faithful_restatement_passes():
    assert check_claim("BERT 用的是双向编码器，而 GPT 用的是单向解码器 [1]。", UNIT, "zh").ok
    assert check_claim("The SVM classifier uses the hinge loss [1].",
                       "The SVM classifier uses the hinge loss. The Softmax classifier uses the cross-entropy loss.",
                       "en").ok


def test_a_sentence_that_only_repeats_the_question_adds_nothing():
    units = "BERT · 架构：双向Transformer编码器\nGPT · 架构：单向Transformer解码器"
    vacuous = "BERT 和 GPT 的区别在于架构和模型。"
    assert check_claim(vacuous, units, "zh").ok  # its words are in the units...
    result = check_claim(vacuous, units, "zh", given="BERT 和 GPT 的区别是什么？")
    assert not result.ok and "adds nothing" in result.reasons[0]  # ...but they are the question's


def test_word_pieces_of_the_checks():
    lexicon = load_lexicon()
    assert numbers_in("叠加了175层，两种方法，1,000 个样本，three heads") >= {"175", "2", "1000", "3"}
    assert "一" not in numbers_in("一种方法")
    assert has_negation("模型不适合小数据", lexicon) and not has_negation("不同的模型", lexicon)
    assert not has_negation("无监督学习", lexicon) and has_negation("It does not converge", lexicon)
    assert terms_in("The SVM uses the hinge loss with L2-SVM", "en") == ["SVM", "L2-SVM"]


def test_users_extend_the_word_lists(tmp_path):
    extra = tmp_path / "claims.yaml"
    extra.write_text("directions:\n  - [[warm-up, 预热], [cool-down, 退火]]\n", encoding="utf-8")
    unit = "学习率先预热，再余弦退火。"
    assert check_claim("学习率先退火 [1]。", unit, "zh").ok  # the shipped lists do not know 预热/退火
    assert not check_claim("学习率先退火 [1]。", "学习率先预热。", "zh", lexicon=load_lexicon(extra)).ok
    (tmp_path / "bad.yaml").write_text("directions: 3\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_lexicon(tmp_path / "bad.yaml")


def test_the_verifier_on_the_labelled_tuning_half():
    """Both languages, supported restatements and subtle corruptions (swapped entities, encoder/decoder, wrong
    numbers, added negations, a neighbouring passage's claim). The test half is reported by bench/answers.py."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 80 and {r["language"] for r in rows} == {"zh", "en"}
    tune = [r for r in rows if r["half"] == "tune"]
    results = [(r, check_claim(r["sentence"], r["unit"], r["language"]).ok) for r in tune]
    supported = [ok for r, ok in results if r["supported"]]
    corrupted = [not ok for r, ok in results if not r["supported"]]
    assert sum(supported) / len(supported) >= 0.9
    assert sum(corrupted) / len(corrupted) >= 0.9

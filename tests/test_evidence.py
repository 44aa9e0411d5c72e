"""Unit selection: which units of the retrieved passages answer, and in what order they are given."""

from __future__ import annotations

import numpy as np

from assistant.evidence import select_evidence
from assistant.units import split_units
from studygraph.records import Chunk


def _chunk(cid: str, heading: tuple[str, ...], text: str, line_start: int) -> Chunk:
    return Chunk(id=cid, source="n.md", section_id=cid, heading_path=heading, line_start=line_start,
                 line_end=line_start + text.count("\n"), text=text, language="zh")


TABLE = _chunk("t", ("自然语言处理",), "| 任务 | 模型 |\n|---|---|\n| 文本分类 | BERT |\n| 问答系统 | BERT, T5 |", 10)
BERT = _chunk("b", ("6.1 BERT",), "- 架构：双向Transformer编码器\n- 预训练任务：MLM；NSP", 30)


def _similarity(best: str):
    def similarity(question: str, texts):  # noqa: ANN001, ANN202 - the embedder's cosine, scripted
        return np.array([0.9 if best in t else 0.6 for t in texts])
    return similarity


def test_the_passage_holding_the_best_unit_comes_first_whatever_its_search_rank():
    selection = select_evidence("What are the pretraining tasks of BERT?", [TABLE, BERT], lambda t: 1.0,
                                similarity=_similarity("预训练任务"))
    assert selection[0].chunk.id == "b", [e.unit.full_text for e in selection]
    b_units = [e for e in selection if e.chunk.id == "b"]
    assert [e.unit.line_start for e in b_units] == sorted(e.unit.line_start for e in b_units), "reading order"


def test_a_table_of_contents_is_not_an_answer_unit():
    toc = _chunk("c", ("目录",), "- [预训练模型](#六预训练模型)\n- [BERT](#61-bert)\n- [论文](https://arxiv.org/abs/1810.04805)", 1)
    assert [u.text for u in split_units(toc)] == ["[论文](https://arxiv.org/abs/1810.04805)"]


def test_a_question_that_asks_for_code_gets_the_code_about_its_words_not_prose_about_code():
    advice = _chunk("a", ("学习建议",), "- 动手实践：不要只看理论，要多写代码", 1)
    block = _chunk("k", ("5.2 Transformer架构",), "```python\ndef forward(self, x):\n    # 自注意力 + 残差\n"
                   "    x = x + self.attention(x)\n    return x\n```", 10)

    def similarity(question: str, texts):  # noqa: ANN001, ANN202 - what USE gives: prose near, code far
        return np.array([0.36 if "代码" in t else 0.06 for t in texts])

    selection = select_evidence("残差连接的代码怎么写", [advice, block], lambda t: 1.0, similarity=similarity)
    assert selection[0].unit.kind == "code" and "残差" in selection[0].unit.text
    assert all("多写代码" not in e.unit.text for e in selection), [e.unit.text for e in selection]


def test_a_passage_of_code_alone_answers_through_its_code_at_any_search_rank():
    # the density-based clustering passage is all code: ranked second, its code is still the answer
    interview = _chunk("i", ("15.3 面试准备",), "- 算法题：机器学习算法实现；优化算法；数据结构", 1)
    clustering = _chunk("c", ("3.2 无监督学习", "聚类"), "**DBSCAN**（密度聚类）：\n```python\n"
                        "from sklearn.cluster import DBSCAN\nmodel = DBSCAN(eps=0.5, min_samples=5)\n```", 20)

    def similarity(question: str, texts):  # noqa: ANN001, ANN202 - USE scores the list above the code
        return np.array([0.3 if "算法题" in t else 0.1 for t in texts])

    selection = select_evidence("基于密度的聚类算法要设置哪些参数", [interview, clustering], lambda t: 1.0,
                                similarity=similarity, named=["聚类"])
    assert any(e.unit.kind == "code" and "min_samples" in e.unit.text for e in selection), \
        [e.unit.full_text for e in selection]


def test_a_concept_is_defined_by_the_first_unit_of_its_section_not_by_the_tail_of_a_split_code_block():
    head = _chunk("h", ("7.2 变分自编码器（VAE）",), "```python\nclass VAE(nn.Module):\n"
                  "    def reparameterize(self, mu, log_var):\n        return mu + torch.randn_like(mu) * log_var\n", 10)
    tail = _chunk("t", ("7.2 变分自编码器（VAE）",), "            nn.Sigmoid()\n        )\n```", 30)
    selection = select_evidence("变分自编码器怎么写", [tail, head], lambda t: 1.0,
                                similarity=_similarity("Sigmoid"), named=["变分自编码器"])
    defining = next(e for e in selection if "变分自编码器" in e.covers)
    assert defining.chunk.id == "h" and "class VAE" in defining.unit.text, [e.unit.full_text for e in selection]


def test_an_english_question_finds_chinese_units_through_the_names_of_its_concepts():
    tools = _chunk("d", ("14.3 开发工具",), "- 实验跟踪：MLflow, Weights & Biases\n- 数据版本：DVC, Delta Lake\n"
                   "- 模型部署：TorchServe, Triton, KServe", 40)

    def similarity(question: str, texts):  # noqa: ANN001, ANN202 - across languages USE barely tells them apart
        return np.array([0.33 if "MLflow" in t else 0.3 for t in texts])

    def best(named: list[str]) -> str:
        selection = select_evidence("tools for data versioning", [tools], lambda t: 1.0, similarity=similarity,
                                    named=named)
        return max(selection, key=lambda e: e.score).unit.text

    assert best([]) == "实验跟踪：MLflow, Weights & Biases"  # words alone cannot cross: the cosine decides
    assert best(["数据版本"]) == "数据版本：DVC, Delta Lake"  # the concept's name in the notes' language bridges


def test_code_explains_how_a_thing_works_only_through_the_question_s_own_words():
    from assistant.evidence import named_not_explained

    dbscan = _chunk("d", ("3.2 无监督学习", "聚类"), "**DBSCAN**（密度聚类）：\n```python\n"
                    "model = DBSCAN(eps=0.5, min_samples=5)\nlabels = model.fit_predict(X)\n```", 20)
    found = named_not_explained(["DBSCAN"], [dbscan], asked=["dbscan", "decide", "points", "noise"])
    assert found is not None and found[0] == "DBSCAN" and found[1][0].unit.kind == "code"
    ppo = _chunk("p", ("8.3 策略梯度方法",), "**PPO**：\n```python\nratio = torch.exp(new_log_probs - old_log_probs)\n"
                 "surr2 = torch.clamp(ratio, 1 - self.clip_epsilon, 1 + self.clip_epsilon) * advantages\n```", 50)
    assert named_not_explained(["PPO"], [ppo], asked=["ppo", "clip", "probability", "ratio"]) is None
    # a question that asks for code is answered by any code that names the thing
    assert named_not_explained(["DBSCAN"], [dbscan]) is None

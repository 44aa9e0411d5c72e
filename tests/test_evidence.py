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

"""Concepts from what the text is about: structural headings, clauses and common words are no concepts; the
vocabulary behind those decisions is data that a user extends."""

from __future__ import annotations

from graph_records import note_records
from ingest.graph.concepts import extract_concepts
from ingest.graph.vocabulary import cjk_clause, looks_like_title, plain_language, use_vocabulary
from kg.glossary import load_glossary
from kg.names import normalize_name
from kg.vocabulary import load_vocabulary

NOTE = """# Convolutional networks

## Convolutional layer

The convolutional layer slides filters over the input. The stride says how far a filter moves; a larger
stride gives a smaller output. With a stride of 2 the output halves, and zero-padding keeps borders. A
convolutional layer is followed by a pooling layer. Choosing the stride and the padding together sets the
output size; most networks use a stride of 1 with zero-padding.

## Pooling layer

The pooling layer downsamples with a stride of 2; a convolutional layer before it extracts features.

## Practical considerations

Use small filters and keep the input size divisible by 2.

**Strategy #1**: try random filters first.

## 小结

本节介绍了卷积。

## 论文

- **AlexNet**：第一个在 ImageNet 上取胜的深度卷积网络
"""


def _names(cs) -> set[str]:
    return {normalize_name(n) for c in cs.concepts.values() for n in (c.name, *c.aliases)}


def test_headings_that_name_nothing_are_structure_and_used_terms_are_concepts():
    sections, chunks = note_records(NOTE, "convnets.md")
    names = _names(extract_concepts(sections, chunks, load_glossary()))
    assert {"convolutionallayer", "poolinglayer", "stride"} <= names  # stride: used often, no heading of its own
    assert not {"practicalconsiderations", "strategy1", "小结"} & names
    assert "alexnet" in names  # a user's "论文" section is read like any other


def test_a_users_vocabulary_extends_the_shipped_one(tmp_path):
    extra = tmp_path / "vocabulary.yaml"
    extra.write_text("skip_headings: [论文]\n", encoding="utf-8")
    assert "论文" in load_vocabulary(extra).words("skip_headings")
    sections, chunks = note_records(NOTE, "convnets.md")
    try:
        use_vocabulary(extra)
        names = _names(extract_concepts(sections, chunks, load_glossary()))
    finally:
        use_vocabulary(None)
    assert "alexnet" not in names and "convolutionallayer" in names


def test_clauses_common_words_and_titles_are_told_from_names():
    for clause in ("他俩没关系", "穿长裤的", "一般取得小一些", "AI发展快", "对于每个样本", "集成学习两个主要类别"):
        assert cjk_clause(clause) or plain_language(clause), clause
    for name in ("梯度下降", "目标检测", "持续学习", "卷积神经网络", "感受野", "多头注意力机制"):
        assert not plain_language(name), name
    assert plain_language("考虑") and plain_language("Categorical") and not plain_language("Regularisation")
    assert looks_like_title("Overview Transformer") and looks_like_title("Selection of Supervised Approaches")
    assert not looks_like_title("Multiclass Support Vector Machine") and not looks_like_title("Batch Normalization")

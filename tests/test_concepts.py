"""Concept extraction on the fixture notes and small hand-written notes: each source of concepts, merging, ids."""

from __future__ import annotations

import pytest

from conftest import FIXTURE_NOTES
from graph_records import folder_records, notes_records
from ingest.graph.concepts import extract_concepts
from kg.glossary import load_glossary
from kg.names import normalize_name


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


@pytest.fixture(scope="module")
def fixture_set(glossary):
    sections, chunks = folder_records(FIXTURE_NOTES)
    return extract_concepts(sections, chunks, glossary)


def _by_name(concept_set) -> dict[str, object]:
    """Every name and alias (normalized) -> concept; a name on two concepts fails the test."""
    found: dict[str, object] = {}
    for concept in concept_set.concepts.values():
        for name in (concept.name, *concept.aliases):
            key = normalize_name(name)
            assert found.get(key, concept) is concept, f"{name} names two concepts"
            found[key] = concept
    return found


def _concept(concept_set, name: str):
    concept = _by_name(concept_set).get(normalize_name(name))
    assert concept is not None, f"no concept named {name}"
    return concept


def test_headings_are_concepts_without_their_numbering(fixture_set):
    names = {c.name for c in fixture_set.concepts.values()}
    assert {"线性代数", "概率论与统计", "卷积神经网络", "注意力机制", "Transformer", "BERT", "GPT", "LoRA"} <= names
    assert not any(name[0].isdigit() and "." in name[:4] for name in names), names


def test_alias_pairs_merge_across_sections(fixture_set):
    # 1.1 lists "主成分分析（PCA）" as an application, 1.3 is the heading "1.3 主成分分析（PCA）": one concept.
    pca = _concept(fixture_set, "PCA")
    assert pca is _concept(fixture_set, "主成分分析")
    assert pca.name == "主成分分析"
    assert len(pca.sections) >= 1 and pca.chunks


def test_glossary_links_languages(fixture_set):
    assert _concept(fixture_set, "attention mechanism").name == "注意力机制"
    assert _concept(fixture_set, "convolutional neural network") is _concept(fixture_set, "CNN")


def test_list_items_bold_terms_table_cells_and_prose_pairs(fixture_set):
    assert _concept(fixture_set, "奇异值分解") is _concept(fixture_set, "SVD")  # item of 核心概念, with alias
    assert _concept(fixture_set, "Learning rate").name == "Learning rate"  # bold term in an English list
    assert _concept(fixture_set, "Momentum")
    assert _concept(fixture_set, "LeNet") and _concept(fixture_set, "ResNet")  # first cells of table rows
    backprop = _concept(fixture_set, "Backpropagation")  # "使用反向传播（Backpropagation）训练" in prose
    assert backprop.name == "反向传播"


def test_phrases_sentences_and_code_are_not_concepts(fixture_set):
    names = {normalize_name(n) for c in fixture_set.concepts.values() for n in (c.name, *c.aliases)}
    assert normalize_name("Adam update") not in names  # a '# comment' in a code block
    assert normalize_name("too large diverges") not in names  # a description after a bold term
    assert normalize_name("RLHF") not in names  # glossary entries create no concept by themselves
    assert not any("。" in n or "，" in n for n in names)


def test_chapter_order_sources_and_mentions(fixture_set):
    linalg = _concept(fixture_set, "线性代数")
    assert linalg.chapter == "数学基础"
    assert linalg.sources == ("01-math.md",)
    assert _concept(fixture_set, "数学基础").order < linalg.order < _concept(fixture_set, "BERT").order
    # 线性代数 is named again in 02 and 03: those chunks are mentions, not definitions.
    mentioned = {fixture_set.scan.chunks[c].source for c in linalg.mentions}
    assert {"02-deep-learning.md", "03-transformers.md"} <= mentioned
    assert not set(linalg.mentions) & set(linalg.chunks)


def test_ids_are_stable_and_independent_of_input_order(glossary):
    sections, chunks = folder_records(FIXTURE_NOTES)
    first = extract_concepts(sections, chunks, glossary)
    second = extract_concepts(list(reversed(sections)), list(reversed(chunks)), glossary)
    assert {c.id: c.name for c in first.concepts.values()} == {c.id: c.name for c in second.concepts.values()}


NOTE = """# 我的深度学习笔记

## 📚 目录

1. [模型](#模型)

## 一、模型

### 1.1 🎯 卷积网络（CNN）

**核心组件**：
- 卷积层
- 池化层

**特点**：
- 适合处理图像数据

**应用**：
- 图像分类
- 目标检测的候选框生成

| 模型 | 年份 |
|------|------|
| AlexNet | 2012 |

### 1.2 概述

**Dropout**：随机丢弃神经元，防止过拟合。

## 参考文献

- **Goodfellow**：Deep Learning
"""


def test_titles_emoji_label_lists_generic_and_skipped_headings(glossary):
    sections, chunks = notes_records([("note.md", NOTE)])
    concept_set = extract_concepts(sections, chunks, glossary)
    names = {c.name for c in concept_set.concepts.values()}
    assert _concept(concept_set, "CNN").name == "卷积网络"  # the note's own name, emoji and numbering removed
    assert {"卷积层", "池化层", "图像分类", "AlexNet", "Dropout"} <= names
    assert not names & {"我的深度学习笔记", "目录", "核心组件", "特点", "应用", "概述", "参考文献", "Goodfellow"}
    assert "适合处理图像数据" not in names  # items of a 特点 (property) list are not concepts
    dropout = next(c for c in concept_set.concepts.values() if c.name == "Dropout")
    assert dropout.chapter == "模型"  # the note's title is no chapter

"""Chunking: token limits with the real tokenizer, blocks kept whole, exact provenance, stable ids."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPORA, CORPUS_NOTES, FIXTURE_NOTES, SEED
from ingest.markdown.chunking import MIN_TEXT_TOKENS, split_chunks
from ingest.markdown.parse import note_lines, parse_note, parse_sections
from retrieval.embedders import load_token_counter
from studygraph.settings import EmbedderSettings
from studygraph.text import text_language


@pytest.fixture(scope="module")
def count_tokens():
    """The bundled embedder's own tokenizer (the `tokenizers` library, no torch)."""
    return load_token_counter(EmbedderSettings())


def _chunk(text: str, count, source: str = "n.md", **kwargs):
    note = parse_note(text, source)
    return split_chunks(text, note.sections, count, blocks=note.blocks, **kwargs)


def _assert_provenance(text: str, chunks, count, max_tokens: int) -> None:
    lines = note_lines(text)
    for chunk in chunks:
        assert 1 <= chunk.line_start <= chunk.line_end <= len(lines)
        assert chunk.text.strip() and chunk.text in "\n".join(lines[chunk.line_start - 1:chunk.line_end])
        heading = " > ".join(h for h in chunk.heading_path if h)
        if count(heading + "\n") + MIN_TEXT_TOKENS <= max_tokens:  # else the heading alone nearly fills it
            assert count(chunk.context_text()) <= max_tokens, (chunk.source, chunk.line_start)
    assert [c.order for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


@pytest.mark.slow  # every note of the seed and the four corpora
def test_seed_and_every_corpus_chunks_lie_in_their_lines_and_fit(count_tokens):
    files = [SEED, *sorted(CORPORA.rglob("*.md"))]
    assert len(files) == 1 + sum(CORPUS_NOTES.values())
    total = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        chunks = _chunk(text, count_tokens, path.name)
        _assert_provenance(text, chunks, count_tokens, 256)
        sections = {c.section_id for c in chunks}
        assert sections == {s.id for s in parse_sections(text, path.name)}, "every section is citable"
        total += len(chunks)
    assert total > 1000


def test_code_table_and_formula_are_kept_whole(count_tokens):
    math = (FIXTURE_NOTES / "01-math.md").read_text(encoding="utf-8")
    code = [c for c in _chunk(math, count_tokens) if "np.linalg.eig" in c.text]
    assert len(code) == 1 and "import numpy as np" in code[0].text and code[0].text.endswith("```")
    assert code[0].kind == "mixed" and code[0].heading_path[-1] == "1.3 主成分分析（PCA）"
    dl = (FIXTURE_NOTES / "02-deep-learning.md").read_text(encoding="utf-8")
    chunks = _chunk(dl, count_tokens, max_tokens=90)  # the table fits alone, not with its paragraph
    table = [c for c in chunks if "LeNet" in c.text]
    assert len(table) == 1 and table[0].kind == "table" and "ResNet" in table[0].text
    formula = [c for c in chunks if "softmax" in c.text]
    assert len(formula) == 1 and formula[0].text.endswith("\\sqrt{d_k})V$$") and formula[0].kind == "mixed"
    alone = _chunk("# F\n\n$$\na^2 + b^2 = c^2\n$$\n", count_tokens)
    assert [(c.kind, c.line_start, c.line_end) for c in alone] == [("formula", 3, 5)]


def test_long_chinese_paragraph_splits_at_sentence_ends_with_overlap(count_tokens):
    sentences = [f"第{i}句讲的是梯度下降和学习率的关系，以及动量如何帮助优化器更快收敛。" for i in range(40)]
    text = "# 优化\n\n" + "".join(sentences) + "\n"
    chunks = _chunk(text, count_tokens, max_tokens=96, overlap_tokens=16)
    assert len(chunks) > 3
    _assert_provenance(text, chunks, count_tokens, 96)
    assert all(c.text.endswith("。") for c in chunks[:-1])
    assert all(c.language == "zh" and c.line_start == c.line_end == 3 for c in chunks)
    assert any(a.text[-10:] in b.text for a, b in zip(chunks, chunks[1:], strict=False)), "neighbours overlap"


def test_heading_only_section_gets_a_citable_chunk(count_tokens):
    text = "# 一、数学基础\n\n## 1.1 线性代数\n\n向量与矩阵。\n\n## Rule\n\n---\n"
    chunks = _chunk(text, count_tokens)
    assert [(c.heading_path[-1], c.text, c.line_start) for c in chunks] == [
        ("一、数学基础", "# 一、数学基础", 1), ("1.1 线性代数", "向量与矩阵。", 5), ("Rule", "## Rule", 7)]
    long_heading = "# " + "deep learning " * 30 + "\n"
    (chunk,) = _chunk(long_heading, count_tokens, max_tokens=100)
    assert long_heading.startswith(chunk.text) and count_tokens(chunk.context_text()) <= 100


def test_ids_change_only_for_edited_text(count_tokens):
    base = (FIXTURE_NOTES / "03-transformers.md").read_text(encoding="utf-8")
    edited = base.replace("GPT builds on the Transformer decoder", "GPT builds on a Transformer decoder")
    before, after = _chunk(base, count_tokens, "t.md"), _chunk(edited, count_tokens, "t.md")
    changed = {c.id for c in before} ^ {c.id for c in after}
    assert len(changed) == 2 and all("GPT builds" in c.text for c in before + after if c.id in changed)
    assert _chunk(base, count_tokens, "other.md")[0].id != before[0].id


def test_heading_context_counts_towards_the_limit(count_tokens):
    heading = " ".join(["Very long heading words"] * 12)
    text = f"# {heading}\n\n" + "plain words here and there. " * 60 + "\n"
    chunks = _chunk(text, count_tokens, max_tokens=80)
    _assert_provenance(text, chunks, count_tokens, 80)
    assert max(count_tokens(c.context_text()) for c in chunks) > 60


def test_language_detection():
    assert text_language("Gradient descent updates the parameters.") == "en"
    assert text_language("Transformer 基于注意力机制（Attention Mechanism），完全抛弃了循环结构。") == "zh"
    assert text_language("Adam optimizer keeps running averages 一阶矩 and 二阶矩") == "mixed"


_MARKDOWNISH = st.lists(
    st.sampled_from(["# H", "## 子标题", "text with words", "中文句子，很长的句子。还有一句！", "", "", "```", "```py",
                     "# comment", "| a | b |", "|---|---|", "$$", "x = 1", "---", "- item", "  ```", "> quote",
                     "Setext", "===", "word " * 30, "字" * 120, "\r", "\t", "### " + "long heading words " * 12]),
    max_size=60,
).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(_MARKDOWNISH, st.text(max_size=400)), max_tokens=st.integers(40, 200))
def test_any_text_gives_chunks_from_their_lines(count_tokens, text: str, max_tokens: int):
    chunks = _chunk(text, count_tokens, max_tokens=max_tokens, overlap_tokens=8)
    _assert_provenance(text, chunks, count_tokens, max_tokens)
    sections = parse_sections(text, "n.md")
    assert {c.section_id for c in chunks} == {s.id for s in sections}
    for chunk in chunks:
        section = next(s for s in sections if s.id == chunk.section_id)
        assert section.line_start <= chunk.line_start <= chunk.line_end <= section.line_end

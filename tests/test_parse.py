"""Parsing notes into sections and blocks: headings, line ranges, fences, front matter."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPORA, FIXTURE_NOTES, SEED
from ingest.markdown.parse import note_lines, parse_blocks, parse_note, parse_sections

LEARNING_RATE = CORPORA / "paddle-dl-zh" / "deep_learning__model_tuning__learning_rate.md"


def _headings_outside_fences(text: str) -> list[tuple[int, int, str]]:
    """An independent oracle for well-formed notes: ATX headings outside ``` fences, as (line, level, raw text)."""
    found, fence = [], None
    for n, line in enumerate(note_lines(text), 1):
        marker = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence is None and marker:
            fence = marker.group(1)
        elif fence is not None and marker and line.strip() == line.strip()[0] * len(line.strip()):
            fence = None
        elif fence is None and (m := re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)):
            found.append((n, len(m.group(1)), m.group(2)))
    return found


def test_seed_has_80_headings_with_their_paths():
    text = SEED.read_text(encoding="utf-8")
    sections = parse_sections(text, "ai-knowledge-system.md")
    expected = _headings_outside_fences(text)
    assert len(expected) == 80 and text.count("\n#") + 1 > 80  # '#' comments in code do not count
    assert [(s.line_start, s.level) for s in sections] == [(n, lvl) for n, lvl, _ in expected]
    stack: list[tuple[int, str]] = []
    for section, (_, level, raw) in zip(sections, expected, strict=True):
        stack = [(lv, h) for lv, h in stack if lv < level] + [(level, raw.replace("**", ""))]
        assert section.heading_path == tuple(h for _, h in stack)
    by_heading = {s.heading: s for s in sections}
    assert by_heading["1.1 线性代数"].heading_path == ("我的AI知识体系", "一、数学基础", "1.1 线性代数")


def test_code_comment_is_not_a_heading_and_bold_lead_stays_text():
    text = (FIXTURE_NOTES / "04-english.md").read_text(encoding="utf-8")
    headings = [s.heading for s in parse_sections(text, "04-english.md")]
    assert headings == ["Optimization notes", "Gradient descent", "Adam"]
    math = parse_sections((FIXTURE_NOTES / "01-math.md").read_text(encoding="utf-8"), "01-math.md")
    assert "核心概念" not in " ".join(s.heading for s in math)


def test_front_matter_is_not_a_section_and_blocks_are_found():
    text = (FIXTURE_NOTES / "02-deep-learning.md").read_text(encoding="utf-8")
    note = parse_note(text, "02-deep-learning.md")
    assert note.sections[0].heading == "深度学习" and note.sections[0].line_start == 6
    kinds = {b.kind: b for b in note.blocks}
    assert set(kinds) == {"front_matter", "table", "formula"}
    lines = note_lines(text)
    assert lines[kinds["table"].line_start - 1].startswith("| 模型")
    assert lines[kinds["table"].line_end - 1].startswith("| ResNet")
    assert "Attention" in lines[kinds["formula"].line_start - 1]


def test_preamble_section_and_line_ranges():
    text = "Intro line\n\nmore intro\n\n\n# Title\n\nbody\n\n## Sub\ntext\n\n\n"
    sections = parse_sections(text, "a.md")
    assert [(s.level, s.heading, s.line_start, s.line_end) for s in sections] == [
        (0, "", 1, 3), (1, "Title", 6, 8), (2, "Sub", 10, 11)]
    assert sections[2].parent_id == sections[1].id and sections[1].parent_id is None
    assert parse_sections("\n\n# Only\n", "b.md")[0].level == 1  # blank text before a heading: no preamble


def test_heading_text_drops_inline_markup():
    text = "# **Bold** and [a *link*](http://x) with `code` <a name='x'></a>\n\nSetext title\n===\n"
    sections = parse_sections(text, "m.md")
    assert sections[0].heading == "Bold and a link with code"
    assert (sections[1].heading, sections[1].level, sections[1].line_start) == ("Setext title", 1, 3)


def test_unclosed_fence_does_not_swallow_later_headings():
    text = "# A\n\n```python\nx = 1\n\n# a comment\ny = 2\n\n## B\n\nprose\n\n# C\n\nend\n"
    note = parse_note(text, "u.md")
    assert [(s.heading_path, s.line_start, s.line_end) for s in note.sections] == [
        (("A",), 1, 7), (("A", "B"), 9, 11), (("C",), 13, 15)]
    assert note.repaired_fences == (3,)
    assert [(b.kind, b.line_start) for b in note.blocks] == [("code", 3)]
    # A closed fence is never reinterpreted: its '#' lines are code.
    closed = "# A\n\n```\n\n## not a heading\n\n```\n"
    assert [s.heading for s in parse_sections(closed, "c.md")] == ["A"]


def test_learning_rate_note_keeps_its_headings_and_code():
    text = LEARNING_RATE.read_text(encoding="utf-8")
    note = parse_note(text, LEARNING_RATE.name)
    assert [s.heading for s in note.sections] == ["学习率", "1. 什么是学习率", "2. 学习率对网络的影响", "3. 学习率的设置"]
    code = [(b.line_start, b.line_end) for b in note.blocks if b.kind == "code"]
    assert (93, 103) in code and (111, 120) in code  # the later fences pair correctly
    lines = note_lines(text)
    assert all(lines[b.line_start - 1].strip() == "$$" for b in note.blocks if b.kind == "formula")


def test_crlf_and_bom_count_the_same_lines():
    text = "# A\n\nbody\n\n## B\ntext\n"
    plain = parse_sections(text, "x.md")
    assert parse_sections("\ufeff" + text.replace("\n", "\r\n"), "x.md") == plain
    assert parse_blocks("```\ncode\n```\n")[0].line_end == 3


def test_section_ids_are_stable_and_unique():
    text = "# A\n\n## Same\n\nx\n\n## Same\n\ny\n"
    first, second = parse_sections(text, "x.md"), parse_sections(text, "x.md")
    assert [s.id for s in first] == [s.id for s in second]
    assert len({s.id for s in first}) == len(first)
    assert parse_sections(text, "y.md")[0].id != first[0].id


def test_every_corpus_heading_outside_fences_is_a_section():
    for path in sorted(CORPORA.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        starts = {s.line_start for s in parse_sections(text, path.name) if s.level}
        for line, _, _ in _headings_outside_fences(text):
            assert line in starts, f"{path.name}:{line}"


_MARKDOWNISH = st.lists(
    st.sampled_from(["# H", "## 子标题", "### x **b**", "text", "中文句子。", "", "", "```", "```py", "~~~",
                     "# comment", "| a | b |", "|---|---|", "$$", "x = 1", "---", "- item", "  ```", "> q",
                     "Setext", "===", "\t", "\r", "\ufeff#"]),
    max_size=40,
).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_MARKDOWNISH, st.text(max_size=300)))
def test_any_text_gives_ordered_valid_sections(text: str):
    lines = note_lines(text)
    sections = parse_sections(text, "p.md")
    previous_end = 0
    for order, section in enumerate(sections):
        assert section.order == order
        assert previous_end < section.line_start <= section.line_end <= len(lines)
        assert lines[section.line_start - 1].strip(), "a section starts on a line with text"
        previous_end = section.line_end
    for block in parse_blocks(text):
        assert 1 <= block.line_start <= block.line_end <= len(lines)

"""Read the structure inside sections back from their chunks: lines, list labels, bold terms, items, table cells.

The graph builder sees sections and chunks only (never the files), so each section's lines are rebuilt from the
chunks that cover them; every line keeps the id of a chunk that holds it, which becomes the evidence of what is
read there.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest.graph.vocabulary import (
    LabelKind,
    active,
    cjk_clause,
    heading_role,
    label_kind,
    looks_like_concept,
)
from kg.names import clean_display, normalize_name
from studygraph.records import Chunk, Section
from studygraph.text import FENCE_LINE, TABLE_SEPARATOR, has_cjk

LineKind = Literal["prose", "item", "table", "code", "formula", "html", "blank"]
TermKind = Literal["heading", "bold", "cell", "model", "item", "example", "pair"]
TermRole = Literal["concept", "application"]

_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_BOLD_LEAD = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*(.*)$")
_BOLD_ANY = re.compile(r"(?:\*\*|__)([^*_\n]{2,60}?)(?:\*\*|__)")
_TOC_LINK = re.compile(r"^\s*\[([^\]]+)\]\(#[^)]*\)")
_TREE_ITEM = re.compile(r"^[\s│|]*[├└]─+\s*(.+)$")
_INLINE_SPLIT = re.compile(r"\s*[、,，;；]\s*")
_COLON = re.compile(r"^(?P<head>[^：:]{1,40}?)\s*[：:]\s*(?P<rest>.*)$")


@dataclass(frozen=True)
class NoteLine:
    """One line of a section, as the chunks give it."""

    no: int
    text: str
    chunk_id: str
    kind: LineKind
    owner: int | None = None  # the bold term whose paragraph holds the line (index into terms), None: the heading
    label: LabelKind | None = None  # the list label in force, for items and their continuation


@dataclass
class TermOcc:
    """A place where a concept name is written: a heading, a bold term, a list item, a table cell, a pair."""

    text: str
    kind: TermKind
    role: TermRole
    section_id: str
    chunk_id: str | None
    line: int
    parent: int | None = None  # index of the term it belongs to in the same section; None: the section's heading
    label: LabelKind | None = None
    dropped: bool = False  # an item of a list that turned out to hold sentences, not names
    inline: bool = False  # bold inside a sentence, without an alias after it: emphasis unless a known name


@dataclass
class SectionScan:
    """A section with its rebuilt lines and the terms written in it."""

    section: Section
    role: Literal["concept", "transparent", "skip", "curriculum"]
    lines: list[NoteLine] = field(default_factory=list)
    terms: list[TermOcc] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)


@dataclass
class NoteScan:
    """Every section of every note, in reading order, plus the curricula (tables of contents, learning paths)."""

    sections: list[SectionScan]
    chunks: dict[str, Chunk]
    curricula: list[list[tuple[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {s.section.id: s for s in self.sections}


def _rebuild_lines(section: Section, chunks: Sequence[Chunk]) -> dict[int, tuple[str, str]]:
    """Line number -> (text, chunk id) for a section, from its chunks (overlaps keep the longest text)."""
    lines: dict[int, tuple[str, str]] = {}
    for chunk in sorted(chunks, key=lambda c: (c.line_start, c.order)):
        parts = chunk.text.split("\n")
        for offset, text in enumerate(parts):
            number = min(chunk.line_start + offset, chunk.line_end)
            if number not in lines or len(text) > len(lines[number][0]):
                lines[number] = (text, chunk.id)
    return lines


def _classify(raw: dict[int, tuple[str, str]], heading_line: int) -> list[NoteLine]:
    """Kinds of lines: fences and $$ blocks are tracked across the section so code is never read as text."""
    out: list[NoteLine] = []
    fence: str | None = None
    in_math = False
    for number in sorted(raw):
        text, chunk_id = raw[number]
        stripped = text.strip()
        fence_match = FENCE_LINE.match(text)
        kind: LineKind
        if fence is not None:
            kind = "code"
            if fence_match and fence_match.group(1)[0] == fence[0] and stripped == stripped[0] * len(stripped):
                fence = None
        elif fence_match:
            kind, fence = "code", fence_match.group(1)
        elif in_math:
            kind = "formula"
            in_math = "$$" not in stripped
        elif stripped.startswith("$$"):
            kind = "formula"
            in_math = stripped.count("$$") == 1
        elif number == heading_line and stripped.startswith("#"):
            continue
        elif not stripped:
            kind = "blank"
        elif stripped.startswith("|"):
            kind = "table"
        elif stripped.startswith("<"):
            kind = "html"
        elif _ITEM.match(text):
            kind = "item"
        else:
            kind = "prose"
        out.append(NoteLine(number, text, chunk_id, kind))
    return out


def _is_title(section: Section, sections: Sequence[Section]) -> bool:
    """A note's only H1 that reads like the title of the whole note ("我的AI知识体系", "... notes")."""
    if section.level != 1:
        return False
    h1 = [s for s in sections if s.source == section.source and s.level == 1]
    return len(h1) == 1 and bool(active().title_words.search(clean_display(section.heading)))


def _section_role(section: Section, sections: Sequence[Section], parents: dict[str, SectionScan]) -> str:
    parent = parents.get(section.parent_id or "")
    if parent is not None and parent.role in ("skip", "curriculum"):
        return "skip"
    if section.level == 0:
        return "transparent"
    return heading_role(section.heading, section.level, _is_title(section, sections))


def scan_notes(sections: Sequence[Section], chunks: Sequence[Chunk]) -> NoteScan:
    """Rebuild every section's lines from the chunks and find the terms written there.

    Args:
        sections: all sections of all notes (any order; they are read in source, then line order).
        chunks: all chunks; each belongs to one section.

    Returns:
        The scan, with sections in reading order and the curricula found in tables of contents and learning paths.
    """
    by_section: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_section[chunk.section_id].append(chunk)
    ordered = sorted(sections, key=lambda s: (s.source, s.line_start, s.order))
    scans: dict[str, SectionScan] = {}
    curricula: list[list[tuple[str, str]]] = []
    toc: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for section in ordered:
        role = _section_role(section, ordered, scans)
        scan = SectionScan(section, role)  # type: ignore[arg-type]
        own = by_section.get(section.id, [])
        scan.chunk_ids = [c.id for c in sorted(own, key=lambda c: (c.line_start, c.order))]
        scan.lines = _classify(_rebuild_lines(section, own), section.line_start)
        scans[section.id] = scan
        toc[section.source].extend(_toc_items(scan))
        if role == "curriculum":
            curricula.append(_curriculum_items(scan))
        elif role != "skip":
            _find_terms(scan)
    curricula.extend(items for items in toc.values() if len(items) >= 3)
    return NoteScan(list(scans.values()), {c.id: c for c in chunks}, [c for c in curricula if len(c) >= 2])


def _toc_items(scan: SectionScan) -> list[tuple[str, str]]:
    """Items of a table of contents: list items that are links to anchors ("1. [数学基础](#一数学基础)")."""
    found = []
    for line in scan.lines:
        match = _ITEM.match(line.text) if line.kind == "item" else None
        link = _TOC_LINK.match(match.group(2)) if match else None
        if link:
            found.append((clean_display(link.group(1)), line.chunk_id))
    return found


def _curriculum_items(scan: SectionScan) -> list[tuple[str, str]]:
    """Steps of a learning path: list items, or tree lines ("├─ Python编程") inside a code block."""
    found = []
    for line in scan.lines:
        match = _ITEM.match(line.text) if line.kind == "item" else _TREE_ITEM.match(line.text)
        if match:
            text = clean_display(match.group(match.lastindex or 1))
            if text and looks_like_concept(text, strict=False):
                found.append((text, line.chunk_id))
    return found


# ---------------------------------------------------------------------------------------------- terms


@dataclass
class _State:
    owner: int | None = None
    label: LabelKind | None = None
    items: dict[int, int] = field(default_factory=dict)  # list depth -> index of the last item term there
    table_rows: int = -1
    table_header: list[str] = field(default_factory=list)
    block: list[int] = field(default_factory=list)  # indexes of plain items in the current list


def _add(scan: SectionScan, line: NoteLine, text: str, kind: TermKind, role: TermRole, parent: int | None,
         label: LabelKind | None = None) -> int | None:
    text = clean_display(text)
    if not text:
        return None
    scan.terms.append(TermOcc(text, kind, role, scan.section.id, line.chunk_id, line.no, parent, label))
    return len(scan.terms) - 1


def _find_terms(scan: SectionScan) -> None:
    state = _State()
    rebuilt: list[NoteLine] = []
    for line in scan.lines:
        if line.kind != "item" and line.kind != "blank":
            _close_list(scan, state)
        if line.kind == "table":
            _table_line(scan, line, state)
        else:
            state.table_rows = -1
        if line.kind == "prose":
            _prose_line(scan, line, state)
        elif line.kind == "item":
            _item_line(scan, line, state)
        rebuilt.append(NoteLine(line.no, line.text, line.chunk_id, line.kind, state.owner,
                                state.label if line.kind in ("item", "blank") else None))
    _close_list(scan, state)
    scan.lines = rebuilt


def _prose_line(scan: SectionScan, line: NoteLine, state: _State) -> None:
    lead = _BOLD_LEAD.match(line.text)
    if lead:
        head, rest = lead.group(1), lead.group(2)
        kind = label_kind(head)
        if kind is not None:
            state.label = kind
            _inline_items(scan, line, rest, kind, state.owner)
            return
        state.label = None
        if looks_like_concept(head):
            index = _add(scan, line, head, "bold", "concept", None)
            state.owner = index
            _inline_examples(scan, line, rest, index)
        return
    state.label = None
    for match in _BOLD_ANY.finditer(line.text):
        if looks_like_concept(match.group(1)) and label_kind(match.group(1)) is None:
            index = _add(scan, line, match.group(1), "bold", "concept", state.owner)
            paired = re.match(r"\s*(?:\*\*)?\s*[（(]", line.text[match.end():])
            if index is not None and not paired:
                scan.terms[index].inline = True


def _inline_items(scan: SectionScan, line: NoteLine, rest: str, kind: LabelKind, owner: int | None) -> None:
    """ "**应用**：图像分类、目标检测" - the items of a label written on its own line."""
    rest = re.sub(r"^\s*[：:]\s*", "", rest)
    if kind in ("concepts", "applications"):
        for part in _INLINE_SPLIT.split(rest):
            if looks_like_concept(part):
                role: TermRole = "application" if kind == "applications" else "concept"
                _add(scan, line, part, "item", role, owner, kind)


def _inline_examples(scan: SectionScan, line: NoteLine, rest: str, parent: int | None) -> None:
    """ "**实验跟踪**：MLflow, Weights & Biases, Neptune" - several names after a term are its examples."""
    rest = re.sub(r"^\s*[：:]\s*", "", rest)
    parts = [p for p in _INLINE_SPLIT.split(rest) if p.strip()]
    if len(parts) >= 2 and all(_name_like(p) for p in parts):
        for part in parts:
            _add(scan, line, part, "example", "concept", parent)


def _name_like(text: str) -> bool:
    """A name rather than a phrase: Chinese, or Latin that starts with a capital or digit ("MLflow", "t-SNE")."""
    text = clean_display(text)
    if not looks_like_concept(text):
        return False
    if has_cjk(text):
        return not cjk_clause(text)
    return len(text.split()) <= 4 and (text[0].isupper() or text[0].isdigit() or any(c.isupper() for c in text[1:]))


def _item_line(scan: SectionScan, line: NoteLine, state: _State) -> None:
    match = _ITEM.match(line.text)
    assert match is not None
    depth = len(match.group(1).replace("\t", "    ")) // 2
    body = match.group(2)
    parent = next((state.items[d] for d in sorted(state.items, reverse=True) if d < depth), state.owner)
    for d in [d for d in state.items if d >= depth]:
        del state.items[d]
    if state.label in ("properties", "examples"):
        return  # "**特点**：- **快**：..." and "**参数**：- **x** (Tensor)" describe, they name no concepts
    lead = _BOLD_LEAD.match(body)
    colon = _COLON.match(clean_display(body)) if not lead and "://" not in body else None
    if lead or colon:
        head = lead.group(1) if lead else colon.group("head")
        rest = lead.group(2) if lead else colon.group("rest")
        if label_kind(head) is None and looks_like_concept(head):
            index = _add(scan, line, head, "bold" if lead else "item", "concept", parent)
            if index is not None:
                state.items[depth] = index
                _inline_examples(scan, line, rest, index)
        return
    if _TOC_LINK.match(body):
        return  # a table of contents is a curriculum, not concepts
    role: TermRole = "application" if state.label == "applications" else "concept"
    index = _add(scan, line, body, "item", role, parent, state.label)
    if index is not None:
        state.items[depth] = index
        if state.label is None:
            state.block.append(index)


def _close_list(scan: SectionScan, state: _State) -> None:
    """A list without a label names concepts only when most of its items look like names, not sentences."""
    if state.block:
        named = [looks_like_concept(scan.terms[i].text) for i in state.block]
        keep = sum(named) * 2 > len(named)
        for index, ok in zip(state.block, named, strict=True):
            if not (keep and ok):
                scan.terms[index].dropped = True
    state.block = []


def _table_line(scan: SectionScan, line: NoteLine, state: _State) -> None:
    """First cells of table rows name concepts; so do the cells of a model/method column ("ResNet, VGG")."""
    cells = [c.strip() for c in line.text.strip().strip("|").split("|")]
    if TABLE_SEPARATOR.match(line.text):
        state.table_rows = 0
        return
    if state.table_rows < 0:  # the header row
        state.table_header = [normalize_name(c) for c in cells]
        return
    state.table_rows += 1
    first = cells[0] if cells else ""
    if re.fullmatch(r"\d+\.?", first) and len(cells) > 1:
        first = cells[1]
    if not looks_like_concept(first):
        return
    row = _add(scan, line, first, "cell", "concept", state.owner)
    for column, cell in enumerate(cells[1:], start=1):
        if column < len(state.table_header) and state.table_header[column] in active().model_headers:
            for part in _INLINE_SPLIT.split(cell):
                if looks_like_concept(part):
                    _add(scan, line, part, "model", "concept", row)

"""Sections to chunks: sized in the embedder's tokens, blocks kept whole, each chunk tied to its original lines.

Rules:
- Chunks never cross sections. The heading line itself is not chunk text (the heading path is prepended as
  context by `Chunk.context_text()`); a section with no text under its heading gets one chunk holding the
  heading line, so it can still be found and cited.
- `count_tokens(chunk.context_text()) <= max_tokens` for every chunk (unless the heading path alone leaves
  less than `MIN_TEXT_TOKENS`, where that minimum is used and a warning logged).
- Code blocks, tables and display formulas that fit are never cut; consecutive pieces of a section (a
  paragraph and the code block after it) share a chunk while they fit. Longer text is split by
  langchain's RecursiveCharacterTextSplitter with CJK-aware separators and a small overlap.
- A chunk's text is an exact substring of the note (stripped of surrounding whitespace), found by offset,
  and lines `line_start..line_end` of the file contain it.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.markdown.parse import Block, note_lines, parse_blocks
from studygraph.records import Chunk, ChunkKind, Section, content_id
from studygraph.text import text_language

log = logging.getLogger(__name__)

SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", ". ", " ", ""]
MIN_TEXT_TOKENS = 16
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_WORD = re.compile(r"\w")

Span = tuple[int, int]  # character offsets [start, end) in a section body




class _Body:
    """The lines of one section under its heading, as one string with offsets back to 1-based file lines."""

    def __init__(self, lines: list[str], first: int, last: int):
        self.first = first
        self.text = "\n".join(lines[first - 1:last])
        self.line_offsets = [0]
        for line in lines[first - 1:last - 1]:
            self.line_offsets.append(self.line_offsets[-1] + len(line) + 1)

    def line_of(self, offset: int) -> int:
        return self.first + bisect.bisect_right(self.line_offsets, offset) - 1

    def line_span(self, a: int, b: int) -> Span:
        """Offsets covering 1-based lines a..b of the file."""
        start = self.line_offsets[a - self.first]
        end = self.line_offsets[b - self.first + 1] - 1 if b - self.first + 1 < len(self.line_offsets) else len(self.text)
        return start, end

    def stripped(self, span: Span) -> Span | None:
        start, end = span
        piece = self.text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        return (start + lead, start + trail) if trail > lead else None


class _Splitter:
    """Token-sized splitting for one note: counts without special tokens, cached."""

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int):
        self.count_tokens = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.specials = count_tokens("")
        self.length = lru_cache(maxsize=1 << 16)(lambda s: max(count_tokens(s) - self.specials, 0))

    def budget(self, heading_path: Sequence[str]) -> int:
        heading = " > ".join(h for h in heading_path if h)
        budget = self.max_tokens - (self.count_tokens(heading + "\n") if heading else self.specials)
        if budget < MIN_TEXT_TOKENS:
            log.warning("Heading path %r leaves %d tokens for text; using %d.", heading[:80], budget, MIN_TEXT_TOKENS)
        return max(budget, MIN_TEXT_TOKENS)

    def split(self, body: _Body, span: Span, budget: int) -> list[Span]:
        """Split a span of the body into pieces of at most `budget` tokens (as langchain measures them)."""
        overlap = min(self.overlap_tokens, budget // 4)
        splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS, keep_separator="end", chunk_size=budget, chunk_overlap=overlap,
            length_function=self.length, strip_whitespace=True,
        )
        pieces, cursor = [], span[0]
        for piece in splitter.split_text(body.text[span[0]:span[1]]):
            start = body.text.find(piece, cursor, span[1])
            if start < 0:  # cannot happen: langchain returns substrings in order; keep the provenance honest
                raise AssertionError(f"chunk text not found in its section: {piece[:60]!r}")
            pieces.append((start, start + len(piece)))
            cursor = start + 1
        return pieces


def _units(body: _Body, last: int, blocks: list[Block]) -> list[Span]:
    """The body cut into runs: whole blocks and the text between them."""
    units: list[Span] = []
    line = body.first
    for block in blocks:
        if block.line_end < line or block.line_start > last or block.kind == "front_matter":
            continue
        start, end = max(block.line_start, line), min(block.line_end, last)
        if start > line:
            units.append(body.line_span(line, start - 1))
        units.append(body.line_span(start, end))
        line = end + 1
    if line <= last:
        units.append(body.line_span(line, last))
    return [span for span in units if body.stripped(span)]


def _section_pieces(body: _Body, last: int, blocks: list[Block], splitter: _Splitter, budget: int) -> list[Span]:
    """Pieces of one section body: consecutive units joined while they fit, longer ones split."""
    pieces: list[Span] = []
    current: Span | None = None
    for span in _units(body, last, blocks):
        if current and splitter.length(body.text[current[0]:span[1]]) <= budget:
            current = (current[0], span[1])
            continue
        if current:
            pieces.append(current)
            current = None
        if splitter.length(body.text[span[0]:span[1]]) <= budget:
            current = span
        else:
            pieces.extend(splitter.split(body, span, budget))
    if current:
        pieces.append(current)
    return _join_neighbours(body, [s for s in (body.stripped(p) for p in pieces) if s], splitter, budget)


def _join_neighbours(body: _Body, pieces: list[Span], splitter: _Splitter, budget: int) -> list[Span]:
    """Join neighbouring pieces that do not overlap and fit together; drop pieces without a word (`---`)."""
    joined: list[Span] = []
    for piece in pieces:
        if joined and piece[0] >= joined[-1][1] and splitter.length(body.text[joined[-1][0]:piece[1]]) <= budget:
            joined[-1] = (joined[-1][0], piece[1])
        else:
            joined.append(piece)
    return [p for p in joined if _WORD.search(body.text[p[0]:p[1]])]


def _line_kinds(blocks: list[Block]) -> dict[int, str]:
    return {line: b.kind for b in blocks for line in range(b.line_start, b.line_end + 1)}


def _kind(line_start: int, line_end: int, line_kinds: dict[int, str], lines: list[str]) -> ChunkKind:
    kinds = {line_kinds.get(n) or ("prose" if lines[n - 1].strip() else "") for n in range(line_start, line_end + 1)}
    kinds.discard("")
    if len(kinds) == 1:
        return kinds.pop()  # type: ignore[return-value]
    return "mixed" if kinds else "prose"


def _body_lines(section: Section, lines: list[str]) -> tuple[int, int]:
    """1-based first and last line of the section's text under its heading."""
    if section.level == 0:
        return section.line_start, section.line_end
    first = section.line_start + 1
    if (section.level <= 2 and first <= section.line_end and _SETEXT_UNDERLINE.match(lines[first - 1])
            and not lines[section.line_start - 1].lstrip().startswith("#")):
        first += 1
    return first, section.line_end


def _fit(body: _Body, spans: list[Span], section: Section, splitter: _Splitter) -> list[Span]:
    """Re-split any piece whose context text still exceeds the limit (token counts are not additive)."""
    heading = " > ".join(h for h in section.heading_path if h)
    fitted: list[Span] = []
    for span in spans:
        text = body.text[span[0]:span[1]]
        over = splitter.count_tokens(f"{heading}\n{text}" if heading else text) - splitter.max_tokens
        if over <= 0 or span[1] - span[0] <= 1:
            fitted.append(span)
            continue
        budget = max(splitter.length(text) - over - 1, 1)
        pieces = [s for s in (body.stripped(p) for p in splitter.split(body, span, budget)) if s]
        if pieces == [span]:  # cannot be cut smaller (a heading path that fills the limit alone): keep it
            fitted.append(span)
            continue
        fitted.extend(_fit(body, pieces, section, splitter))
    return fitted


def _heading_chunk(section: Section, lines: list[str], splitter: _Splitter) -> tuple[int, int, str]:
    """The chunk of a section with no text: its heading line, cut short if even that exceeds the limit."""
    text = lines[section.line_start - 1].strip()
    heading = " > ".join(h for h in section.heading_path if h)
    low, high = 1, len(text)
    while low < high:  # the longest prefix whose context text fits
        mid = (low + high + 1) // 2
        fits = splitter.count_tokens(f"{heading}\n{text[:mid]}" if heading else text[:mid]) <= splitter.max_tokens
        low, high = (mid, high) if fits else (low, mid - 1)
    return section.line_start, section.line_start, text[:low].rstrip() or text[:1]


def _section_chunks(
    section: Section, lines: list[str], blocks: list[Block], splitter: _Splitter
) -> list[tuple[int, int, str]]:
    """(line_start, line_end, text) of each chunk of one section."""
    first, last = _body_lines(section, lines)
    if first > last or not any(line.strip() for line in lines[first - 1:last]):
        return [_heading_chunk(section, lines, splitter)]
    body = _Body(lines, first, last)
    spans = _fit(body, _section_pieces(body, last, blocks, splitter, splitter.budget(section.heading_path)),
                 section, splitter)
    if not spans:  # only rules or punctuation under the heading
        return [_heading_chunk(section, lines, splitter)]
    return [(body.line_of(a), body.line_of(b - 1), body.text[a:b]) for a, b in spans]


def split_chunks(
    text: str,
    sections: Sequence[Section],
    count_tokens: Callable[[str], int],
    max_tokens: int = 256,
    overlap_tokens: int = 32,
    blocks: list[Block] | None = None,
) -> list[Chunk]:
    """Split a note's sections into chunks that fit the embedder.

    Args:
        text: the decoded note (the same text the sections were parsed from).
        sections: its sections, from `parse_sections`.
        count_tokens: the embedder's token counter (`retrieval.embedders.load_token_counter`).
        max_tokens: the most tokens of `Chunk.context_text()` (heading path included).
        overlap_tokens: overlap between neighbouring pieces of a long passage.
        blocks: code/table/formula blocks from `parse_blocks` (parsed from `text` when None).

    Returns:
        Chunks in file order, with ids derived from source, heading path and text.
    """
    lines = note_lines(text)
    blocks = parse_blocks(text) if blocks is None else blocks
    splitter = _Splitter(count_tokens, max_tokens, overlap_tokens)
    line_kinds = _line_kinds(blocks)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for section in sections:
        for line_start, line_end, piece in _section_chunks(section, lines, blocks, splitter):
            chunk_id = content_id(section.source, *section.heading_path, piece)
            seen[chunk_id] = seen.get(chunk_id, 0) + 1
            if seen[chunk_id] > 1:  # the same text twice under one heading: keep ids unique and stable
                chunk_id = content_id(section.source, *section.heading_path, piece, str(seen[chunk_id]))
            chunks.append(Chunk(
                id=chunk_id, source=section.source, section_id=section.id, heading_path=section.heading_path,
                line_start=line_start, line_end=line_end, text=piece,
                kind=_kind(line_start, line_end, line_kinds, lines), language=text_language(piece), order=len(chunks),
            ))
    return chunks

"""Markdown notes to sections (heading tree with exact line ranges) and blocks (code, tables, formulas).

Line numbers are 1-based and count lines the way `note_lines` splits them ("\\n", "\\r\\n" or "\\r"), which is
also how markdown-it-py counts them, so every range points at the same lines of the original file.

Unclosed code fences: CommonMark lets a fence without a closing line run to the end of its container (the
whole file at top level), which would turn every later heading into code. After parsing, a fence whose last
line is not a closing fence is "unclosed"; if a heading-like line follows a blank line inside it, the fence
is treated as closed at that blank line and the text is parsed again (line numbers are unchanged, since only
a blank line is replaced). Heading-like means an ATX heading with two or more '#' (`## Title`), or with one
'#' when a blank line (or the end of the file) also follows it, so that `# comment` lines of code are not
taken for headings. Closed fences are never touched: a `#` line inside them is code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from studygraph.records import Section, content_id

BlockKind = Literal["code", "table", "formula", "front_matter"]
MAX_FENCE_REPAIRS = 100  # each repair parses the note again; a note needing more is left as CommonMark reads it

_NEWLINES = re.compile(r"\r\n?")
_BLANK = re.compile(r"^\s*$")
_CONTAINER_PREFIX = re.compile(r"^[ \t>]*")
_HEADING_LIKE = re.compile(r"^ {0,3}(#{1,6})[ \t]+\S")
_SPACES = re.compile(r"\s+")
_BLOCK_TOKENS: dict[str, BlockKind] = {
    "fence": "code",
    "code_block": "code",
    "table_open": "table",
    "math_block": "formula",
    "math_block_eqno": "formula",
    "amsmath": "formula",
    "front_matter": "front_matter",
}


@dataclass(frozen=True)
class Block:
    """A run of lines that is one unit for the chunker: a code fence, a table, a display formula, front matter."""

    kind: BlockKind
    line_start: int
    line_end: int


@dataclass(frozen=True)
class ParsedNote:
    """What the parser found in one note."""

    sections: list[Section]
    blocks: list[Block]
    repaired_fences: tuple[int, ...] = ()  # 1-based lines of unclosed fences that were closed early


def note_lines(text: str) -> list[str]:
    """The lines of a note as line numbers count them (any newline convention; no line-end characters)."""
    return _NEWLINES.sub("\n", text).split("\n")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin).use(dollarmath_plugin)


def _normalize(text: str) -> str:
    # markdown-it would keep a BOM as text and then miss a heading on the first line; it has no line of its own.
    return _NEWLINES.sub("\n", text).removeprefix("\ufeff")


def _is_closing_fence(line: str, markup: str) -> bool:
    stripped = _CONTAINER_PREFIX.sub("", line).rstrip()
    return len(stripped) >= len(markup) and set(stripped) == {markup[0]}


def _heading_candidate(lines: list[str], index: int) -> bool:
    match = _HEADING_LIKE.match(lines[index])
    if not match or index == 0 or not _BLANK.match(lines[index - 1]):
        return False
    if len(match.group(1)) >= 2:
        return True
    return index + 1 >= len(lines) or bool(_BLANK.match(lines[index + 1]))


def _close_one_unclosed_fence(tokens: list[Token], lines: list[str]) -> int | None:
    """Replace the blank line before the first heading swallowed by an unclosed fence with a closing fence.

    Returns the 0-based line of the repaired fence's opening, or None when no fence needed it.
    """
    for token in tokens:
        if token.type != "fence" or not token.map:
            continue
        start, end = token.map
        if end - start >= 2 and _is_closing_fence(lines[end - 1], token.markup):
            continue
        for index in range(start + 2, end):
            if _heading_candidate(lines, index):
                prefix = _CONTAINER_PREFIX.match(lines[start]).group(0)
                lines[index - 1] = prefix + token.markup
                return start
    return None


def _tokens(text: str) -> tuple[list[Token], list[str], tuple[int, ...]]:
    """Parse, closing unclosed fences that swallow headings; returns tokens, lines and the repaired fences."""
    lines = _normalize(text).split("\n")  # a copy: repairs must not change the original lines
    repaired: list[int] = []
    tokens = _markdown().parse("\n".join(lines))
    while len(repaired) < MAX_FENCE_REPAIRS and (opened := _close_one_unclosed_fence(tokens, lines)) is not None:
        repaired.append(opened + 1)
        tokens = _markdown().parse("\n".join(lines))
    return tokens, lines, tuple(repaired)


def inline_text(token: Token) -> str:
    """Plain text of an inline token: emphasis, links and code markup removed, raw HTML dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "math_inline", "math_inline_double", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _SPACES.sub(" ", "".join(parts)).strip()


def _last_text_line(lines: list[str], first: int, last: int) -> int:
    """The last 1-based line in first..last that is not blank (first when all are)."""
    while last > first and _BLANK.match(lines[last - 1]):
        last -= 1
    return last


def _blocks(tokens: list[Token]) -> list[Block]:
    blocks = []
    for token in tokens:
        kind = _BLOCK_TOKENS.get(token.type)
        if kind and token.map:
            blocks.append(Block(kind, token.map[0] + 1, token.map[1]))
    return blocks


def _headings(tokens: list[Token]) -> list[tuple[int, int, str]]:
    """(level, 0-based first line, text) of every heading, in order."""
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            text = inline_text(tokens[i + 1]) if i + 1 < len(tokens) and tokens[i + 1].type == "inline" else ""
            found.append((int(token.tag[1]), token.map[0], text))
    return found


def _body_start(tokens: list[Token]) -> int:
    """0-based first line after the front matter (0 when there is none)."""
    for token in tokens:
        if token.type == "front_matter" and token.map:
            return token.map[1]
    return 0


def parse_note(text: str, source: str) -> ParsedNote:
    """Parse a note into sections and blocks.

    Args:
        text: the decoded note.
        source: its path relative to the ingest root ('/' separators), used in section ids.

    Returns:
        Sections in file order (a level-0 preamble first when text precedes the first heading), and the
        code/table/formula/front-matter blocks the chunker keeps whole.
    """
    tokens, _, repaired = _tokens(text)
    lines = _normalize(text).split("\n")
    headings = _headings(tokens)
    sections: list[Section] = []
    first_heading = headings[0][1] if headings else len(lines)
    preamble_start = _body_start(tokens)
    if any(not _BLANK.match(line) for line in lines[preamble_start:first_heading]):
        first = preamble_start + 1
        while _BLANK.match(lines[first - 1]):
            first += 1
        last = _last_text_line(lines, first, first_heading)
        sections.append(Section(id=content_id(source, "0"), source=source, heading="", level=0, heading_path=(),
                                line_start=first, line_end=last, order=0))
    stack: list[Section] = []
    for i, (level, start, heading) in enumerate(headings):
        next_start = headings[i + 1][1] if i + 1 < len(headings) else len(lines)
        while stack and stack[-1].level >= level:
            stack.pop()
        path = tuple(s.heading for s in stack) + (heading,)
        order = len(sections)
        section = Section(
            id=content_id(source, *path, str(order)), source=source, heading=heading, level=level,
            heading_path=path, line_start=start + 1, line_end=_last_text_line(lines, start + 1, next_start),
            parent_id=stack[-1].id if stack else None, order=order,
        )
        sections.append(section)
        stack.append(section)
    return ParsedNote(sections=sections, blocks=_blocks(tokens), repaired_fences=repaired)


def parse_sections(text: str, source: str) -> list[Section]:
    """The section tree of a note, flattened in file order (see `parse_note`)."""
    return parse_note(text, source).sections


def parse_blocks(text: str) -> list[Block]:
    """Code fences, indented code, tables, display formulas and front matter, with 1-based line ranges."""
    return parse_note(text, "").blocks

"""Answer units: a passage split into the pieces an answer quotes or cites (sentence, list item, table row,
formula, code block), each with the file lines it comes from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.text import split_sentences
from studygraph.records import Chunk
from studygraph.text import CJK, CJK_CHARS, has_cjk

UnitKind = Literal["sentence", "list_item", "table_row", "formula", "code"]

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)、])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
# *单星号* emphasis next to Chinese counts as emphasis too ("此*梯度*的方向"); a*b between Latin letters or digits is
# arithmetic
_EMPHASIS = re.compile(r"\*\*|__|(?<![A-Za-z0-9*])\*(?=\S)|(?<=\S)\*(?![A-Za-z0-9*])")
_QUOTE_MARK = re.compile(r"^(?:>\s*)+")
_RULE = re.compile(r"^[\s\-*_=|:]+$")
_LEAD_END = ("：", ":")
# How a finished sentence ends (with its citation markers stripped); anything else runs on to the next line.
_SENTENCE_ENDS = ("。", "！", "？", "!", "?", ".", "；", ";", "…", "”", "\"", "）", ")")
# A line of code outside a fence (a chunk cut inside a code block): brackets or assignment and no run of prose.
_CODE_SIGN = re.compile(r"[=(){}\[\]]|^\s*(?:def|class|import|from|return|for|if|elif|else|print)\b|^\s*#")
_PROSE_RUN = re.compile(r"[A-Za-z]{2,},? [a-z]{2,},? [a-z]{2,} [a-z]{2,}")
MAX_CODE_LINES = 14  # a quoted code block longer than this shows the lines about the question (see `focus_code`)
# A line that is only images or links ("![图5 ReLU](relu.jpg)", "[图5 ReLU](../images/relu.jpg)"): it says nothing
# an answer can quote, and its path words would count as words of the passage.
_LINK = r"!?\[[^\]]*\]\(([^)]*)\)"
_LINKS_ONLY = re.compile(rf"^(?:{_LINK}[\s,，;；]*)+$")


def without_links(text: str) -> str:
    """The text with its links and images ("[图5](relu.jpg)") blanked out."""
    return re.sub(_LINK, " ", text)


def _only_anchors(text: str) -> bool:
    """A line of links into the same note only: a table of contents ("[预训练模型](#六预训练模型)")."""
    return bool(_LINKS_ONLY.match(text)) and all(t.startswith("#") for t in re.findall(_LINK, text))


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage.

    Attributes:
        text: the piece itself, markup removed (code and formulas kept verbatim).
        kind: sentence, list_item, table_row, formula or code.
        line_start: first line of the file it comes from (1-based, inclusive).
        line_end: last line of the file it comes from.
        context: what the piece needs to be read alone: a list's lead-in line ("正则化方法："), a table's header
            row, a formula's label; empty when none.
        chunk_id: the chunk it was split from.
    """

    text: str
    kind: UnitKind
    line_start: int
    line_end: int
    context: str = ""
    chunk_id: str = ""

    @property
    def full_text(self) -> str:
        """The piece with its context, as it is shown, embedded and checked against."""
        if not self.context:
            return self.text
        if self.kind in ("code", "formula"):
            return f"{self.context}\n{self.text}"
        joiner = "" if self.context.endswith(_LEAD_END) else ": "
        return f"{self.context}{joiner}{self.text}"


def clean_line(line: str) -> str:
    """A line without its list bullet and emphasis marks."""
    return _EMPHASIS.sub("", _LIST_ITEM.sub("", line)).strip()


def _table_cells(line: str) -> list[str]:
    return [clean_line(c) for c in line.strip().strip("|").split("|")]


def _table_row(line: str, header: list[str] | None) -> str:
    cells = _table_cells(line)
    if header and len(header) == len(cells):
        return "; ".join(f"{h}: {c}" if h and c else c for h, c in zip(header, cells, strict=True) if c)
    return "; ".join(c for c in cells if c)


def _fenced(lines: list[str], start: int) -> int:
    """Index after the fenced block (code or $$ formula) that opens at `start`."""
    opening = lines[start].strip()
    fence = "$$" if opening.startswith("$$") else opening[:3]
    if fence == "$$" and len(opening) > 2 and opening.endswith("$$") and opening != "$$":
        return start + 1
    i = start + 1
    while i < len(lines) and not lines[i].strip().startswith(fence):
        i += 1
    return min(i + 1, len(lines))


def looks_like_code(line: str) -> bool:
    """A line of code outside a fence: code signs, no Chinese, and no run of English prose."""
    return (not CJK.search(line) and bool(_CODE_SIGN.search(line)) and not _PROSE_RUN.search(line)
            and not line.rstrip().endswith((".", "?", "!")))


_COMMENT = re.compile(r"^\s*(?:#|//|--)\s*(?P<text>[^#!].*?)\s*$")
# A comment that names what the next lines do ("# 权重衰减", "# Cosine annealing"), not a sentence or commented code.
_OUTLINE_MAX_CJK = 16
_WORDLIKE = re.compile(f"[A-Za-z{CJK_CHARS}]")
_OUTLINE_MAX_WORDS = 6


def comment_outline(code_lines: list[str]) -> list[str]:
    """The short comments that title the parts of a code block ("# Dropout", "# 批归一化", "# 权重衰减"), when it
    has two or more: notes often list the methods of a topic as commented code, and those names answer "which
    methods are there" in words, while the code itself is only shown when code is asked for."""
    names = []
    for line in code_lines:
        match = _COMMENT.match(line)
        if not match:
            continue
        text = match.group("text")
        short = len(text) <= _OUTLINE_MAX_CJK if has_cjk(text) else len(text.split()) <= _OUTLINE_MAX_WORDS
        if short and _WORDLIKE.search(text) and not _CODE_SIGN.search(text) and text not in names:
            names.append(text)
    return names if len(names) >= 2 else []


class _Splitter:
    """Walks a chunk's lines once; `lead` is the last lead-in line ("核心概念：") that the next items belong to."""

    def __init__(self, chunk: Chunk):
        self.chunk = chunk
        self.lines = chunk.text.splitlines()
        self.units: list[Unit] = []
        self.lead = ""
        self.header: list[str] | None = None

    def line_no(self, i: int) -> int:
        return self.chunk.line_start + i

    def add(self, text: str, kind: UnitKind, first: int, last: int, context: str = "") -> None:
        if text.strip() and (_WORDLIKE.search(text) or kind in ("code", "formula")):  # a stray "!" is no unit
            self.units.append(Unit(text.strip(), kind, self.line_no(first), self.line_no(last), context,
                                   self.chunk.id))

    def block(self, i: int) -> int:
        end = _fenced(self.lines, i)
        body = self.lines[i:end]
        kind: UnitKind = "formula" if self.lines[i].strip().startswith("$$") else "code"
        self.add("\n".join(body), kind, i, end - 1, context=self.lead)
        outline = comment_outline(self.lines[i + 1 : end - 1]) if kind == "code" else []
        if outline:
            joiner = "；" if any(has_cjk(c) for c in outline) else "; "
            self.add(joiner.join(outline), "list_item", i, end - 1, context=self.lead)
        self.lead = ""
        return end

    def prose(self, i: int, stripped: str) -> None:
        if _LIST_ITEM.match(stripped):
            if not _only_anchors(clean_line(stripped)):  # a table of contents is navigation, not content
                self.add(clean_line(stripped), "list_item", i, i, context=self.lead)
            return
        if stripped.startswith("|"):
            if self.header is None:
                self.header = _table_cells(stripped)
            else:
                self.add(_table_row(stripped, self.header), "table_row", i, i)
            return
        self.header = None
        if looks_like_code(stripped):
            last = self.units[-1] if self.units else None
            if last is not None and last.kind == "code" and last.line_end == self.line_no(i) - 1 and "```" not in last.text:
                self.units[-1] = Unit(f"{last.text}\n{self.lines[i].rstrip()}", "code", last.line_start,
                                      self.line_no(i), last.context, last.chunk_id)
            else:
                self.add(self.lines[i].rstrip(), "code", i, i)
            self.lead = ""
            return
        cleaned = clean_line(stripped)
        if _LINKS_ONLY.match(cleaned):
            return
        if cleaned.endswith(_LEAD_END):
            self.lead = cleaned
            return
        self.lead = ""
        last = self.units[-1] if self.units else None
        if last is not None and last.kind == "sentence" and last.line_end == self.line_no(i) - 1 \
                and not last.text.endswith(_SENTENCE_ENDS):
            # a paragraph hard-wrapped across lines: the sentence left open on the line above goes on here
            del self.units[-1]
            joiner = "" if has_cjk(last.text[-1:]) and has_cjk(cleaned[:1]) else " "
            sentences = split_sentences(last.text + joiner + cleaned)
            self.units.append(Unit(sentences[0], "sentence", last.line_start, self.line_no(i), last.context,
                                   last.chunk_id))
            sentences = sentences[1:]
        else:
            sentences = split_sentences(cleaned)
        for sentence in sentences:
            self.add(sentence, "sentence", i, i)

    def run(self) -> list[Unit]:
        i = 0
        while i < len(self.lines):
            stripped = self.lines[i].strip()
            if stripped.startswith(("```", "~~~", "$$")):
                i = self.block(i)
                continue
            if not stripped or _HEADING.match(stripped):
                self.lead, self.header = "", None
            elif not _RULE.match(stripped):
                self.prose(i, _QUOTE_MARK.sub("", stripped) or stripped)  # a quoted line says what it says
            elif not stripped.startswith("|"):
                self.lead = ""
            i += 1
        return self.units


def focus_code(code: str, words: Iterable[str], limit: int = MAX_CODE_LINES) -> str:
    """A long code block cut down to the lines about the question: each line holding one of its `words` (with the
    lines around it, and the two after a comment that holds one: "# 数据清洗" titles what follows), the fences
    kept and each gap marked "..."; the block's head when no line holds a word. Short blocks stay whole."""
    lines = code.split("\n")
    if len(lines) <= limit:
        return code
    fenced = lines[0].lstrip().startswith(("```", "~~~")) and lines[-1].lstrip().startswith(("```", "~~~"))
    head, body, tail = (lines[:1], lines[1:-1], lines[-1:]) if fenced else ([], lines, [])
    budget = limit - len(head) - len(tail)
    lowered = [line.lower() for line in body]
    wanted = [w.lower() for w in words if len(w) >= 2]
    hits = [i for i, line in enumerate(lowered) if any(w in line for w in wanted)]
    keep: list[int] = []
    for i in hits:
        after = 2 if _COMMENT.match(body[i]) else 1
        for j in range(i - 1, i + after + 1):
            if 0 <= j < len(body) and j not in keep and body[j].strip():
                keep.append(j)
    keep = sorted(keep[:budget]) if keep else list(range(min(budget - 1, len(body))))
    out, last = list(head), -1
    for j in keep:
        if j > last + 1:
            out.append("...")
        out.append(body[j])
        last = j
    if last < len(body) - 1:
        out.append("...")
    return "\n".join([*out, *tail])


def split_units(chunk: Chunk) -> list[Unit]:
    """Split a chunk into answer units, in reading order.

    Sentences are split at terminators; list items keep their lead-in line as `context`; a table row is written
    as "header: cell; ..." pairs; fenced code and $$ formulas are one unit each, whole (an answer quoting long code
    shows the lines about its question: `focus_code`); the short comments that title a code block's parts are
    also one list unit.

    Args:
        chunk: a passage of the notes.

    Returns:
        Its units, each with the lines of the file it comes from.
    """
    return _Splitter(chunk).run()

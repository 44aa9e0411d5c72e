"""The structure cards are made from: a section's lines read back into labels, list items, table rows, formulas
and code statements, each with its exact line range (the answer units of a section, as a study card sees them)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from studygraph.records import Chunk
from studygraph.text import FENCE_LINE, TABLE_SEPARATOR

UnitKind = Literal["label", "item", "row", "formula", "code", "statement"]

_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)、])\s+(.*)$")
_LABEL = re.compile(r"^\s*(?:\*\*|__)(?P<term>[^*_]{1,60}?)(?:\*\*|__)\s*(?P<paren>[（(][^）)]{1,60}[）)])?\s*"
                    r"[：:]\s*(?P<rest>.*)$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<term>[^*_]{1,60}?)(?:\*\*|__)\s*(?P<paren>[（(][^）)]{1,60}[）)])?\s*$")
_ITEM_LABEL = re.compile(r"^(?:\*\*|__)?(?P<term>[^：:*_]{1,40}?)(?:\*\*|__)?\s*[：:]\s*(?P<rest>\S.*)$")
_LINK_ONLY = re.compile(r"^\s*\[[^\]]+\]\([^)]*\)\s*$")
_TREE = re.compile(r"[├└│]")
_MARKUP = re.compile(r"(\*\*|__|`)")


@dataclass(frozen=True)
class Unit:
    """One unit of a section a card can ask about.

    Attributes:
        kind: label (`**term**：text`), item (a list item), row (a table row), formula ($$ block), code (one
            top-level statement of a code block, with the comment that names it), statement (a prose line).
        text: the unit as written (markup removed for labels and items; a row's cells joined by " | ").
        line_start, line_end: 1-based lines of the unit in its file.
        chunk_id: the chunk holding the unit's first line.
        term: the name a label or `term：text` item defines ("" if none); for code, the comment that names it.
        body: what the label or item says about the term (the text after the colon); for code, the statement.
        owner: the label the unit sits under ("" when directly under the heading), and its first line.
        cells: a row's cells; header: its table's header cells.
    """

    kind: UnitKind
    text: str
    line_start: int
    line_end: int
    chunk_id: str
    term: str = ""
    body: str = ""
    owner: str = ""
    owner_line: int = 0
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()


@dataclass
class SectionUnits:
    """A section's heading path, its rebuilt lines and the units read from them."""

    section_id: str
    source: str
    heading_path: tuple[str, ...]
    lines: dict[int, str]
    chunk_of: dict[int, str] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)

    def passage(self, start: int, end: int) -> str:
        """The text of lines start..end (inclusive) as the notes hold them."""
        return "\n".join(self.lines.get(n, "") for n in range(start, end + 1)).strip("\n")


def strip_markup(text: str) -> str:
    return " ".join(_MARKUP.sub("", text).split())


def _rebuild(chunks: Sequence[Chunk]) -> tuple[dict[int, str], dict[int, str]]:
    """Line number -> text and line number -> chunk id, from a section's chunks (overlaps keep the longest text)."""
    lines: dict[int, str] = {}
    owner: dict[int, str] = {}
    for chunk in sorted(chunks, key=lambda c: (c.line_start, c.order)):
        for offset, text in enumerate(chunk.text.split("\n")):
            number = min(chunk.line_start + offset, chunk.line_end)
            if number not in lines or len(text) > len(lines[number]):
                lines[number] = text
                owner.setdefault(number, chunk.id)
    return lines, owner


def section_units(chunks: Iterable[Chunk]) -> list[SectionUnits]:
    """The units of every section of the chunks, sections in reading order."""
    by_section: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_section[chunk.section_id].append(chunk)
    out = []
    for section_id, group in by_section.items():
        lines, owner = _rebuild(group)
        first = min(group, key=lambda c: (c.line_start, c.order))
        sec = SectionUnits(section_id, first.source, first.heading_path, lines, owner)
        sec.units = _Reader(lines, owner).read()
        out.append(sec)
    return sorted(out, key=lambda s: (s.source, min(s.lines, default=0)))


class _Reader:
    """Walks a section's lines once, tracking fences, $$ blocks, tables, lists and the label in force."""

    def __init__(self, lines: dict[int, str], chunk_of: dict[int, str]):
        self.numbers = sorted(lines)
        self.lines = lines
        self.chunk_of = chunk_of
        self.units: list[Unit] = []
        self.owner, self.owner_line = "", 0
        self.in_list = False

    def read(self) -> list[Unit]:
        i = 0
        while i < len(self.numbers):
            i = self._step(i)
        return self.units

    def _text(self, i: int) -> str:
        return self.lines[self.numbers[i]]

    def _step(self, i: int) -> int:
        text = self._text(i)
        stripped = text.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "***"):
            if self.in_list:  # a blank line after a list ends the label's scope: what follows is the section's
                self.owner, self.owner_line, self.in_list = "", 0, False
            return i + 1
        if FENCE_LINE.match(text):
            return self._code(i)
        if stripped.startswith("$$"):
            return self._formula(i)
        if stripped.startswith("|"):
            return self._table(i)
        item = _ITEM.match(text)
        if item:
            self.in_list = True
            self._item(i, item.group(1), item.group(2))
            return i + 1
        self.in_list = False
        label = _LABEL.match(text) or _BOLD_LINE.match(text)  # `**Tanh函数**` alone on its line heads what follows
        if label:
            self._label(i, label)
            return i + 1
        if not _TREE.search(stripped):
            self._add("statement", i, i, strip_markup(stripped))
        return i + 1

    def _add(self, kind: UnitKind, first: int, last: int, text: str, **extra: object) -> None:
        line = self.numbers[first]
        self.units.append(Unit(kind=kind, text=text, line_start=line, line_end=self.numbers[last],
                               chunk_id=self.chunk_of.get(line, ""), owner=self.owner, owner_line=self.owner_line,
                               **extra))  # type: ignore[arg-type]

    def _label(self, i: int, match: re.Match[str]) -> None:
        term = strip_markup(match.group("term")) + (match.group("paren") or "")
        rest = strip_markup(match.groupdict().get("rest") or "")
        self.owner, self.owner_line = term, self.numbers[i]
        if not rest.startswith("$$"):  # an empty label names its term; what follows is its content
            self._add("label", i, i, f"{term}：{rest}" if rest else term, term=term, body=rest)
        elif rest.startswith("$$") and rest.endswith("$$") and len(rest) > 4:
            self._add("formula", i, i, rest, body=rest)

    def _item(self, i: int, indent: str, rest: str) -> None:
        text = strip_markup(rest)
        if not text or _LINK_ONLY.match(rest):
            return
        match = _ITEM_LABEL.match(text)
        if match and not match.group("rest").startswith("//"):
            self._add("item", i, i, text, term=match.group("term").strip(), body=match.group("rest").strip())
        else:
            self._add("item", i, i, text)

    def _formula(self, i: int) -> int:
        j = i
        stripped = self._text(i).strip()
        if not (stripped.endswith("$$") and len(stripped) > 4):
            j = i + 1
            while j < len(self.numbers) and "$$" not in self._text(j):
                j += 1
            j = min(j, len(self.numbers) - 1)
        body = "\n".join(self._text(k).strip() for k in range(i, j + 1))
        self._add("formula", i, j, body, body=body)
        return j + 1

    def _table(self, i: int) -> int:
        j = i
        while j < len(self.numbers) and self._text(j).strip().startswith("|"):
            j += 1
        rows = [self._cells(self._text(k)) for k in range(i, j)]
        if len(rows) >= 3 and TABLE_SEPARATOR.match(self._text(i + 1)):
            header = tuple(rows[0])
            owner, owner_line = self.owner, self.owner_line
            self.owner_line = self.numbers[i]  # a row is cited from its header down
            for k, row in enumerate(rows[2:], start=i + 2):
                if any(row):
                    self._add("row", k, k, " | ".join(row), cells=tuple(row), header=header)
            self.owner, self.owner_line = owner, owner_line
        return j

    @staticmethod
    def _cells(line: str) -> list[str]:
        return [strip_markup(c) for c in line.strip().strip("|").split("|")]

    def _code(self, i: int) -> int:
        fence = FENCE_LINE.match(self._text(i)).group(1)  # type: ignore[union-attr]
        j = i + 1
        while j < len(self.numbers) and not self._text(j).strip().startswith(fence[:3]):
            j += 1
        for first, last, comment, statement in code_statements([self._text(k) for k in range(i + 1, j)]):
            self._add("code", i + 1 + first, i + 1 + last, statement, term=comment, body=statement)
        return j + 1


# --------------------------------------------------------------------------- code that states an API

_COMMENT = re.compile(r"^#\s*(?P<comment>.+?)\s*$")
_INLINE_COMMENT = re.compile(r"^(?P<code>[^#]*?\S)\s+#\s*(?P<comment>\S.*?)\s*$")
_API_SHAPE = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*\s*[(\[]|[A-Za-z_]\w*\.[A-Za-z_]\w*")
_IMPORT = re.compile(r"^(?:from\s+[\w.]+\s+import\s+[\w, ]+|import\s+[\w.]+(?:\s+as\s+\w+)?)\s*$")
_BLOCK_START = re.compile(r"^(?:class|def|async\s+def|if|elif|else|for|while|with|try|except|finally)\b")


def _balanced(lines: list[str], start: int) -> int:
    """The last line of the statement that starts at `start` (brackets closed)."""
    depth, k = 0, start
    while k < len(lines):
        code = lines[k].split("#", 1)[0]
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        if depth <= 0:
            return k
        k += 1
    return len(lines) - 1


def _imported(code: str) -> dict[str, str]:
    """Names an import line brings in -> the import line."""
    match = re.match(r"^from\s+[\w.]+\s+import\s+(?P<names>[\w, ]+)$", code)
    if match:
        return {n.strip(): code for n in match.group("names").split(",") if n.strip()}
    match = re.match(r"^import\s+(?P<module>[\w.]+)(?:\s+as\s+(?P<alias>\w+))?$", code)
    if match:
        return {match.group("alias") or match.group("module"): code}
    return {}


def _uses(code: str, imports: dict[str, str], used: set[str]) -> str | None:
    """The first imported name this statement calls that no earlier statement called."""
    for name in imports:
        if name not in used and re.search(rf"(?<![\w.]){re.escape(name)}\s*[.(]", code):
            used.add(name)
            return name
    return None


def code_statements(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """Top-level statements of a code block that state an API: (first, last, name, statement).

    A code block states an API where a comment says what a call does (`df.dropna()  # 删除空值`, or `# Adam`
    above `optimizer = torch.optim.Adam(...)`: the statements under a comment line form one unit), or where a
    statement calls what the block imports (`from sklearn.svm import SVC` then `model = SVC(...)`: name "",
    the import joined to the statement). Only top-level statements count (the bodies of classes and functions
    are implementation, not API), and only statements that call, index or reach an attribute (`x = 10  # int`
    states no API).
    """
    out: list[tuple[int, int, str, str]] = []
    usages: list[tuple[int, int, str, str]] = []
    imports: dict[str, str] = {}
    import_line: dict[str, int] = {}
    used: set[str] = set()
    group: list[tuple[int, int, str]] = []
    comment: tuple[int, str] | None = None

    def close() -> None:
        if comment and group:
            out.append((comment[0], group[-1][1], comment[1], "\n".join(code for _, _, code in group)))
        group.clear()

    k = 0
    while k < len(lines):
        line = lines[k]
        note = _COMMENT.match(line.strip())
        if not line.strip() or line[:1].isspace() or note:
            close()
            comment = (k, note.group("comment")) if note and not line[:1].isspace() else None
            k += 1
            continue
        first, last = k, _balanced(lines, k)
        k = last + 1
        statement = "\n".join(lines[first:last + 1]).rstrip()
        inline = _INLINE_COMMENT.match(lines[first]) if last == first else None
        code = inline.group("code").strip() if inline else statement
        if _BLOCK_START.match(code):
            close()
            comment = None
            continue
        if _IMPORT.match(code):
            imports.update(_imported(code))
            import_line.update(dict.fromkeys(_imported(code), first))
            continue
        if not _API_SHAPE.search(code):
            continue
        name = _uses(code, imports, used)
        if inline and not _API_SHAPE.fullmatch(inline.group("comment").strip()):
            out.append((first, last, inline.group("comment"), code))
        elif comment:
            group.append((first, last, code))
        elif name:
            usages.append((min(first, import_line[name]), last, imports[name], code))
    close()
    if usages:  # one unit per block: what it imports and the first use of each import
        used_imports = "\n".join(dict.fromkeys(line for _, _, line, _ in usages))
        out.append((min(u[0] for u in usages), usages[-1][1], "", used_imports + "\n" + "\n".join(c for *_, c in usages)))
    return sorted(out)

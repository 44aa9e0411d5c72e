"""Review cards from the notes: pure functions from the concept graph and the chunks to cards, each citing the
exact lines that answer it.

Kinds of card (the notes' own structure decides which):

- `definition`: a term and what the notes say it is (`**列表（List）**：有序可修改集合`), the answer hidden;
- `term`: the other direction, the definition shown and the term hidden (where the term is a concept);
- `name`: a concept's name in the other language or its abbreviation, both ways (`奇异值分解（SVD）`);
- `cloze`: a concept named inside a definition hidden (`双向[...]编码器`);
- `list`: one item of a list the notes give under a concept (`线性代数 › 核心概念`) hidden;
- `fact`: a table cell, with its row and column shown;
- `formula`: the formula under a label, and `term` for the label from the formula;
- `api`: a call the notes name in a code comment (`df.dropna()  # 删除空值`) or import and use; no other code;
- `prerequisite`: what must be known before a concept, where the notes say so (cue phrases, learning paths).

Card ids derive from the card's content (kind, front, back), never from line numbers or chunk ids: an
edit elsewhere in a passage keeps the card and its review history; an edited answer makes a new card.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from kg.card_units import SectionUnits, Unit, section_units
from kg.graph import ConceptGraph
from kg.matcher import TermMatcher
from kg.names import clean_display, normalize_name, split_alias
from studygraph.records import Chunk, SourceRef, content_id
from studygraph.text import LATIN_WORD, has_cjk

CardKind = Literal["definition", "term", "name", "cloze", "list", "fact", "formula", "api", "prerequisite",
                   "question"]
CARD_KINDS: tuple[str, ...] = ("definition", "term", "name", "cloze", "list", "fact", "formula", "api",
                               "prerequisite", "question")
BLANK = "[...]"
# Prerequisite edges whose evidence states the order in the cited passage itself (a cue phrase such as
# "需要先学", a learning path listing one before the other); glossary and reference-asymmetry edges are
# inferred, so a card from them could not be answered from its passage.
STATED_RULES = ("cue_phrase", "curriculum_order")
# A list item longer than this, or holding a clause separator, is a statement, not a name to recall.
NAME_ITEM_MAX = 30
LIST_MAX = 12  # longer lists are catalogues: recalling one item of 30 teaches little
CLOZES_PER_UNIT = 2
_CLAUSE = re.compile(r"[，,。；;！？!?]")
_IMAGE_OR_LINK = re.compile(r"^\s*!?\[[^\]]*\]\([^)]*\)\s*$")


def _is_knowledge(text: str) -> bool:
    """An answer worth recalling names or says something: not a bare number (a data table's cell), not an image."""
    return (has_cjk(text) or bool(LATIN_WORD.search(text))) and not _IMAGE_OR_LINK.match(text)
_TEMPLATES = {
    "prerequisite": {"zh": "学习「{concept}」之前需要先掌握什么？", "en": "What must you know before {concept}?"},
    "api": {"zh": "{where}：笔记里用哪个 API？", "en": "{where}: which API do your notes use?"},
}


class Card(BaseModel):
    """A question about the notes, its answer, and the passage that answers it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: CardKind
    concept: str = ""
    concept_id: str = ""
    front: str
    back: str
    citation: SourceRef
    passage: str = ""

    @property
    def where(self) -> str:
        """`file § heading (lines a–b)` for display."""
        ref = self.citation
        heading = f" § {ref.heading_path[-1]}" if ref.heading_path else ""
        return f"{ref.source}{heading} (lines {ref.line_start}–{ref.line_end})"


def _norm(text: str) -> str:
    return " ".join(text.split())


def card_id(kind: str, front: str, back: str) -> str:
    """The stable id of a card: its kind and wording (whitespace-insensitive). The front carries the headings
    that give the card its context; the concept is left out, so renaming a concept in the graph keeps history."""
    return content_id(kind, _norm(front), _norm(back), prefix="card-")


def _language(text: str) -> str:
    return "zh" if has_cjk(text) else "en"


# --------------------------------------------------------------------------- concepts of the passages


class ConceptIndex:
    """Finds the concept a heading, label or name is about, by any of its names."""

    def __init__(self, graph: ConceptGraph):
        self.graph = graph
        self.by_name: dict[str, str] = {}
        names: dict[str, str] = {}
        for concept in graph.concepts:
            for name in (concept.name, *concept.aliases):
                self.by_name.setdefault(normalize_name(name), concept.id)
                names.setdefault(name, concept.id)
        self.matcher = TermMatcher(names)

    def resolve(self, text: str) -> str | None:
        """The concept a written name denotes: itself, its name before a parenthesis, or its alias."""
        if not text:
            return None
        found = self.by_name.get(normalize_name(text))
        if found:
            return found
        split = split_alias(clean_display(text))
        for name in (split.name, *split.aliases):
            found = self.by_name.get(normalize_name(name))
            if found:
                return found
        return None

    def of(self, sec: SectionUnits) -> str | None:
        """The concept a section is about: the nearest heading (itself or above) that names a concept.

        Sections under headings that name none (a table of contents, reading lists, advice) are about nothing.
        """
        for heading in reversed(sec.heading_path):
            found = self.resolve(heading)
            if found:
                return found
        return None

    def name(self, concept_id: str | None) -> str:
        return self.graph.concept(concept_id).name if concept_id else ""


# --------------------------------------------------------------------------- building one card


class _Maker:
    """Builds the cards of one section, citing its lines."""

    def __init__(self, sec: SectionUnits, concepts: ConceptIndex, concept_id: str):
        self.sec = sec
        self.concepts = concepts
        self.concept_id = concept_id
        self.heading = clean_display(sec.heading_path[-1]) if sec.heading_path else ""

    def card(self, kind: CardKind, front: str, back: str, first: int, last: int, chunk_id: str,
             concept_id: str | None = None) -> Card | None:
        front, back = front.strip(), back.strip()
        if not back or not front or BLANK not in front and kind not in ("prerequisite", "api", "question"):
            return None
        if not _is_knowledge(back) or (kind == "fact" and not _is_knowledge(front.split("·")[0])):
            return None
        cid = concept_id or self.concept_id
        concept = self.concepts.name(cid)
        ref = SourceRef(chunk_id=chunk_id, source=self.sec.source, heading_path=self.sec.heading_path,
                        line_start=first, line_end=last)
        return Card(id=card_id(kind, front, back), kind=kind, concept=concept, concept_id=cid, front=front,
                    back=back, citation=ref, passage=self.sec.passage(first, last))

    def context(self, unit: Unit, with_owner: bool = True) -> str:
        if with_owner and unit.owner and normalize_name(unit.owner) != normalize_name(self.heading):
            return f"{self.heading} › {unit.owner}"
        return self.heading

    def start(self, unit: Unit) -> int:
        """A unit's citation starts at its label, so the passage shows what the unit belongs to."""
        return unit.owner_line if unit.owner_line and unit.owner_line <= unit.line_start else unit.line_start


def _definition_cards(m: _Maker, unit: Unit) -> Iterator[Card | None]:
    """`term：body` (a label or an item): the body from the term, the term from the body, named concepts hidden."""
    ctx = m.context(unit, with_owner=unit.kind == "item")
    first = m.start(unit) if unit.kind == "item" else unit.line_start
    term_concept = m.concepts.resolve(unit.term)
    own = term_concept or (m.concepts.resolve(unit.owner) if unit.owner else None)
    yield m.card("definition", f"{ctx}\n{unit.term}：{BLANK}", unit.body, first, unit.line_end, unit.chunk_id, own)
    if term_concept and len(normalize_name(unit.body)) >= 2:
        yield m.card("term", f"{ctx}\n{BLANK}：{unit.body}", unit.term, first, unit.line_end, unit.chunk_id, own)
    yield from _clozes(m, ctx, unit.term, unit.body, first, unit, own)


def _clozes(m: _Maker, ctx: str, term: str, body: str, first: int, unit: Unit,
            own: str | None) -> Iterator[Card | None]:
    """Concepts named inside a definition, each hidden in turn (not the defined term itself)."""
    if len(body) != len(body.lower()):
        return
    made = 0
    for match in m.concepts.matcher.find(body):
        surface = body[match.start:match.end]
        rest = body[:match.start] + BLANK + body[match.end:]
        before = body[match.start - 1] if match.start else " "
        if before.isascii() and (before.isalnum() or before in "._-"):
            continue  # part of a longer token ("cs.CV")
        if match.concept_id in (own, m.concept_id) or normalize_name(surface) == normalize_name(term) \
                or len(normalize_name(rest.replace(BLANK, ""))) < 2 or surface == body:
            continue
        yield m.card("cloze", f"{ctx}\n{term}：{rest}", surface, first, unit.line_end, unit.chunk_id, own)
        made += 1
        if made >= CLOZES_PER_UNIT:
            return


def _is_name(text: str) -> bool:
    return len(text) <= NAME_ITEM_MAX and not _CLAUSE.search(text)


def _list_cards(m: _Maker, items: list[Unit]) -> Iterator[Card | None]:
    """A list of names under a concept: each item hidden in turn. A list of statements: recalled as a whole."""
    head = items[0]
    ctx = m.context(head)
    first, last = m.start(head), items[-1].line_end
    owner_concept = m.concepts.resolve(head.owner) if head.owner else None
    texts = [u.text for u in items]
    if len(items) >= 2 and len(items) <= LIST_MAX and sum(map(_is_name, texts)) * 2 > len(texts):
        for k, item in enumerate(items):
            shown = " · ".join(BLANK if j == k else t for j, t in enumerate(texts))
            yield m.card("list", f"{ctx}：{shown}", item.text, first, last, head.chunk_id, owner_concept)
    elif head.owner and owner_concept:
        body = "\n".join(texts)
        yield m.card("definition", f"{m.heading}\n{head.owner}：{BLANK}", body, first, last, head.chunk_id,
                     owner_concept)
        yield m.card("term", f"{m.heading}\n{BLANK}：{body}", head.owner, first, last, head.chunk_id, owner_concept)


def _row_cards(m: _Maker, unit: Unit) -> Iterator[Card | None]:
    """A table row: each cell from its row's first cell and its column's header."""
    cells, header = unit.cells, unit.header
    if len(cells) < 2 or len(header) != len(cells) or not cells[0]:
        return
    own = m.concepts.resolve(cells[0])
    for c in range(1, len(cells)):
        if cells[c] and header[c]:
            front = f"{m.heading}\n{header[0]}：{cells[0]} · {header[c]}：{BLANK}"
            yield m.card("fact", front, cells[c], m.start(unit), unit.line_end, unit.chunk_id, own)


def _formula_cards(m: _Maker, unit: Unit) -> Iterator[Card | None]:
    """The formula under a label, and the label from the formula."""
    own = m.concepts.resolve(unit.owner) if unit.owner else None
    if own is None:  # a formula under "思考：" or "例如" is a worked example, not what defines a concept
        return
    first = m.start(unit)
    yield m.card("formula", f"{m.heading}\n{unit.owner}：{BLANK}", unit.body, first, unit.line_end, unit.chunk_id, own)
    yield m.card("term", f"{m.heading}\n{BLANK}：{unit.body}", unit.owner, first, unit.line_end, unit.chunk_id, own)


def _api_cards(m: _Maker, unit: Unit) -> Iterator[Card | None]:
    """A call the notes name in a comment, or import and use under a concept's label."""
    ctx = m.context(unit)
    if unit.term:
        yield m.card("api", f"{ctx}\n{unit.term}：{BLANK}", unit.body, unit.line_start, unit.line_end,
                     unit.chunk_id, m.concepts.resolve(unit.owner))
        return
    own = m.concepts.resolve(unit.owner) if unit.owner else None
    if own or not unit.owner:
        where = unit.owner or m.heading
        front = _TEMPLATES["api"][_language(where)].format(where=where)
        yield m.card("api", front, unit.body, unit.line_start, unit.line_end, unit.chunk_id, own)


def _name_cards(m: _Maker, text: str, line: int, chunk_id: str) -> Iterator[Card | None]:
    """`奇异值分解（SVD）`: the other name from each, where the graph holds both as names of one concept."""
    split = split_alias(clean_display(text))
    own = m.concepts.resolve(split.name)
    for alias in split.aliases:
        if not own or m.concepts.resolve(alias) != own or normalize_name(alias) == normalize_name(split.name):
            continue
        yield m.card("name", f"{split.name}（{BLANK}）", alias, line, line, chunk_id, own)
        yield m.card("name", f"{BLANK}（{alias}）", split.name, line, line, chunk_id, own)


def _items_in_lists(units: list[Unit]) -> Iterator[list[Unit]]:
    """Plain list items grouped by list: consecutive lines under one label."""
    group: list[Unit] = []
    for unit in units:
        if unit.kind != "item" or unit.term:
            if group:
                yield group
            group = []
            continue
        if group and (unit.owner_line != group[-1].owner_line or unit.line_start > group[-1].line_end + 1):
            yield group
            group = []
        group.append(unit)
    if group:
        yield group


def _section_cards(sec: SectionUnits, concepts: ConceptIndex, concept_id: str) -> Iterator[Card | None]:
    m = _Maker(sec, concepts, concept_id)
    heading_line = min(sec.lines, default=0)
    if sec.heading_path and sec.lines.get(heading_line, "").lstrip().startswith("#"):
        yield from _name_cards(m, sec.heading_path[-1], heading_line, sec.units[0].chunk_id if sec.units else "")
    for unit in sec.units:
        if unit.kind in ("label", "item") and unit.term:
            yield from _definition_cards(m, unit)
            yield from _name_cards(m, unit.term, unit.line_start, unit.chunk_id)
        elif unit.kind == "item":
            yield from _name_cards(m, unit.text, unit.line_start, unit.chunk_id)
        elif unit.kind == "row":
            yield from _row_cards(m, unit)
        elif unit.kind == "formula":
            yield from _formula_cards(m, unit)
        elif unit.kind == "code":
            yield from _api_cards(m, unit)
    for items in _items_in_lists(sec.units):
        yield from _list_cards(m, items)


def prerequisite_cards(graph: ConceptGraph, chunks: Mapping[str, Chunk]) -> list[Card]:
    """"What must you know before X?", one card per concept and passage that states its prerequisites."""
    cards = []
    for concept in graph.concepts:
        stated: dict[str, list[str]] = defaultdict(list)
        for edge in graph.in_edges(concept.id, "prerequisite"):
            for ev in edge.evidence:
                if ev.rule in STATED_RULES and ev.chunk_id in chunks:
                    stated[ev.chunk_id].append(graph.concept(edge.source).name)
                    break
        for chunk_id, names in stated.items():
            chunk = chunks[chunk_id]
            front = _TEMPLATES["prerequisite"][_language(concept.name + chunk.text)].format(concept=concept.name)
            back = "、".join(sorted(dict.fromkeys(names)))
            ref = SourceRef(chunk_id=chunk_id, source=chunk.source, heading_path=chunk.heading_path,
                            line_start=chunk.line_start, line_end=chunk.line_end)
            cards.append(Card(id=card_id("prerequisite", front, back), kind="prerequisite",
                              concept=concept.name, concept_id=concept.id, front=front, back=back, citation=ref,
                              passage=chunk.text))
    return cards


def generate_cards(graph: ConceptGraph, chunks: Mapping[str, Chunk]) -> list[Card]:
    """Every card the notes support, in reading order, without duplicates.

    Sections about no concept (tables of contents, reading lists, advice) make no cards.

    Args:
        graph: the concept graph (which headings, labels and names are concepts; prerequisite edges).
        chunks: chunk records by id (the passages, with their files, headings and lines).

    Returns:
        The cards; ids are stable across re-ingests of unchanged content.
    """
    concepts = ConceptIndex(graph)
    found: dict[str, Card] = {}
    for sec in section_units(chunks.values()):
        concept_id = concepts.of(sec)
        if concept_id is None:
            continue
        for card in _section_cards(sec, concepts, concept_id):
            if card is not None:
                found.setdefault(card.id, card)
    for card in prerequisite_cards(graph, chunks):
        found.setdefault(card.id, card)
    return list(found.values())


def cards_of(cards: Iterable[Card], concept_ids: Iterable[str]) -> list[Card]:
    """The cards about the given concepts."""
    wanted = set(concept_ids)
    return [c for c in cards if c.concept_id in wanted]

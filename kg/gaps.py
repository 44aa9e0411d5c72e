"""Knowledge gaps: concepts the notes name but never explain, and well-known prerequisites (from the glossary)
the notes never mention, each with where it is named.

A concept is explained where some unit of the notes says something about it that is not code: a `term：text`
label or item for it, a formula or a list under its label, a table row it heads, or any text in the section
(or sub-sections) its own heading opens. It is named where the notes write one of its names. Only sections
about a concept count (tables of contents, reading lists and advice are no study material).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from kg.card_units import SectionUnits, Unit, section_units
from kg.cards import ConceptIndex
from kg.glossary import Glossary
from kg.graph import ConceptGraph
from kg.matcher import TermMatcher
from studygraph.records import Chunk, SourceRef

GapKind = Literal["unexplained", "missing_prerequisite"]
PLACES_SHOWN = 3


class Gap(BaseModel):
    """One gap: what is missing and where the notes name it (or name what needs it)."""

    model_config = ConfigDict(frozen=True)

    kind: GapKind
    concept: str
    concept_id: str = ""
    needed_by: tuple[str, ...] = ()
    named_in: tuple[SourceRef, ...] = ()
    mentions: int = 0


class GapReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    unexplained: tuple[Gap, ...] = ()
    missing_prerequisites: tuple[Gap, ...] = ()


def _ref(sec: SectionUnits, unit: Unit) -> SourceRef:
    return SourceRef(chunk_id=unit.chunk_id, source=sec.source, heading_path=sec.heading_path,
                     line_start=unit.line_start, line_end=unit.line_end)


def _explained_by(unit: Unit, index: ConceptIndex) -> list[str]:
    """Concepts a non-code unit says something about, by its own structure."""
    if unit.kind == "code" or unit.kind == "statement":
        return []
    found = []
    if unit.kind in ("label", "item") and unit.term and unit.body:
        found.append(index.resolve(unit.term))
    if unit.kind in ("formula", "item") and unit.owner:
        found.append(index.resolve(unit.owner))
    if unit.kind == "row" and len([c for c in unit.cells if c]) >= 2:
        found.append(index.resolve(unit.cells[0]))
    return [c for c in found if c]


def _study_sections(chunks: Mapping[str, Chunk], index: ConceptIndex) -> list[tuple[SectionUnits, str]]:
    return [(sec, cid) for sec in section_units(chunks.values()) if (cid := index.of(sec))]


def explained_concepts(graph: ConceptGraph, chunks: Mapping[str, Chunk]) -> set[str]:
    """Ids of the concepts some passage explains (see the module docstring)."""
    index = ConceptIndex(graph)
    explained: set[str] = set()
    for sec, _ in _study_sections(chunks, index):
        has_text = any(u.kind not in ("code", "statement") and (u.body or u.kind != "label") for u in sec.units)
        if has_text:  # a section with text explains its heading's concept and every heading above it
            explained |= {cid for h in sec.heading_path if (cid := index.resolve(h))}
        for unit in sec.units:
            explained.update(_explained_by(unit, index))
    return explained


def _named(graph: ConceptGraph, chunks: Mapping[str, Chunk], index: ConceptIndex) -> dict[str, list[SourceRef]]:
    """Where each concept is named (in study sections), in reading order."""
    places: dict[str, list[SourceRef]] = defaultdict(list)
    for sec, _ in _study_sections(chunks, index):
        for heading in sec.heading_path[-1:]:
            cid = index.resolve(heading)
            line = min(sec.lines, default=0)
            if cid:
                places[cid].append(SourceRef(chunk_id=sec.chunk_of.get(line, ""), source=sec.source,
                                             heading_path=sec.heading_path, line_start=line, line_end=line))
        for unit in sec.units:
            text = " ".join(filter(None, (unit.text if unit.kind != "code" else unit.term,)))
            for cid in index.matcher.concepts_in(text):
                places[cid].append(_ref(sec, unit))
    return places


def gap_concepts(graph: ConceptGraph, chunks: Mapping[str, Chunk]) -> set[str]:
    """Ids of concepts the notes name but never explain: what the graph view draws as hollow nodes."""
    index = ConceptIndex(graph)
    named = _named(graph, chunks, index)
    return set(named) - explained_concepts(graph, chunks)


def _unexplained(graph: ConceptGraph, chunks: Mapping[str, Chunk], index: ConceptIndex) -> list[Gap]:
    named = _named(graph, chunks, index)
    explained = explained_concepts(graph, chunks)
    gaps = []
    for cid, places in named.items():
        if cid in explained or cid not in graph:
            continue
        concept = graph.concept(cid)
        unique = list(dict.fromkeys(places))
        gaps.append(Gap(kind="unexplained", concept=concept.name, concept_id=cid,
                        named_in=tuple(unique[:PLACES_SHOWN]), mentions=len(unique)))
    return sorted(gaps, key=lambda g: (-g.mentions, -graph.concept(g.concept_id).importance, g.concept))


def _missing_prerequisites(graph: ConceptGraph, chunks: Mapping[str, Chunk], glossary: Glossary,
                           index: ConceptIndex) -> list[Gap]:
    """Glossary prerequisites of the notes' concepts that no passage names, by any of their names."""
    wanted: dict[str, list[str]] = defaultdict(list)  # prerequisite entry key -> concept ids that need it
    for concept in graph.concepts:
        entry = next((e for n in (concept.name, *concept.aliases) if (e := glossary.find(n))), None)
        for key in entry.prerequisites if entry else ():
            wanted[key].append(concept.id)
    if not wanted:
        return []
    names = {name: key for key in wanted for name in glossary.entry(key).names}
    matcher = TermMatcher(names)
    text = "\n".join(c.context_text() for c in chunks.values())
    mentioned = {m.concept_id for m in matcher.find(text)}
    in_graph = {key for key in wanted if any(index.resolve(n) for n in glossary.entry(key).names)}
    named = _named(graph, chunks, index)
    gaps = []
    for key, needers in wanted.items():
        if key in mentioned or key in in_graph:
            continue
        entry = glossary.entry(key)
        needers = list(dict.fromkeys(needers))
        places = list(dict.fromkeys(p for cid in needers for p in named.get(cid, [])[:1]))
        gaps.append(Gap(kind="missing_prerequisite", concept=entry.zh or entry.en,
                        needed_by=tuple(graph.concept(c).name for c in needers),
                        named_in=tuple(places[:PLACES_SHOWN]), mentions=0))
    return sorted(gaps, key=lambda g: (-len(g.needed_by), g.concept))


def find_gaps(graph: ConceptGraph, chunks: Mapping[str, Chunk], glossary: Glossary) -> GapReport:
    """The gap report of the notes.

    Args:
        graph: the concept graph.
        chunks: chunk records by id.
        glossary: supplies well-known prerequisites (`kg.glossary.load_glossary`).

    Returns:
        Unexplained concepts (most named first) and missing prerequisites (most needed first).
    """
    index = ConceptIndex(graph)
    return GapReport(unexplained=tuple(_unexplained(graph, chunks, index)),
                     missing_prerequisites=tuple(_missing_prerequisites(graph, chunks, glossary, index)))


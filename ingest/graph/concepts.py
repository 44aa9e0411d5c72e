"""Concepts from the structure of notes: headings, bold terms, list items, table cells and `name（alias）` pairs,
merged across spellings, languages (through the glossary) and notes into one record each."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.graph.candidates import glossary_terms, without_fences, without_structure
from ingest.graph.declared import DeclaredLink, declared_occurrences
from ingest.graph.occurrences import (
    KIND_RANK,
    Occurrence,
    application_names,
    collect_occurrences,
    glossary_entry,
    shorter_name,
)
from ingest.graph.scan import NoteScan, scan_notes
from ingest.graph.vocabulary import active, looks_like_concept
from kg.glossary import Glossary, GlossaryEntry
from kg.matcher import Match, TermMatcher
from kg.names import clean_display, is_abbreviation, normalize_name
from studygraph.records import Chunk, Concept, Section, content_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplicationLink:
    """An item of an application list: the concept it names is used_in-linked from the list's owner."""

    section_id: str
    owner_term: int | None
    target: str  # concept id
    chunk_id: str
    exact: bool  # the item names the concept itself (not a phrase that contains its name)


@dataclass(frozen=True)
class ConceptSet:
    """The concepts of the notes and where each is written: what the edge rules read (complete when built)."""

    scan: NoteScan
    concepts: dict[str, Concept]
    occurrences: list[Occurrence]
    concept_of: list[str]  # occurrence index -> concept id
    home: dict[str, int]  # concept id -> index of its defining (strongest) occurrence
    entry_of: dict[str, str]  # concept id -> glossary entry key
    applications: list[ApplicationLink]
    declared: list[DeclaredLink]  # edges the notes declare (wikilinks, front matter), keys resolved to concept ids
    matcher: TermMatcher  # finds every concept's names in text
    by_term: dict[tuple[str, int | None], list[str]]  # (section id, term index or None) -> concepts it names
    chunk_mentions: dict[str, list[str]]  # chunk id -> concepts named in it

    def section_concept(self, section_id: str | None) -> str | None:
        """The concept a section is about: its heading's, else the nearest ancestor's (None under skipped ones)."""
        while section_id:
            scan = self.scan.by_id.get(section_id)
            if scan is None or scan.role in ("skip", "curriculum"):
                return None
            ids = self.by_term.get((section_id, None))
            if ids:
                return ids[0]
            section_id = scan.section.parent_id
        return None

    def owner_concept(self, section_id: str, owner: int | None) -> str | None:
        """The concept a line belongs to: its bold term's (or list item's), else its section's."""
        seen = 0
        scan = self.scan.by_id[section_id]
        while owner is not None and seen < 50:
            ids = self.by_term.get((section_id, owner))
            if ids:
                return ids[0]
            owner, seen = scan.terms[owner].parent, seen + 1
        return self.section_concept(section_id)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, keys: set[str]) -> None:
        first, *rest = sorted(keys)
        for key in rest:
            a, b = self.find(first), self.find(key)
            if a != b:
                self.parent[max(a, b)] = min(a, b)


def _group(occurrences: list[Occurrence]) -> list[list[int]]:
    uf = _UnionFind()
    for occ in occurrences:
        uf.union(occ.keys())
    groups: dict[str, list[int]] = defaultdict(list)
    for i, occ in enumerate(occurrences):
        groups[uf.find(next(iter(occ.keys())))].append(i)
    return list(groups.values())


def _position(occ: Occurrence, scan: NoteScan, sources: dict[str, int]) -> tuple[int, int]:
    return sources[scan.by_id[occ.section_id].section.source], occ.line


def _home(indexes: list[int], occurrences: list[Occurrence], scan: NoteScan, sources: dict[str, int]) -> int:
    """The defining occurrence: the strongest place in the first note that defines the concept, so a note
    added later that also defines it (a K-means upload with a K-means heading) neither moves its chapter nor
    takes over its definition."""
    defining = [i for i in indexes if occurrences[i].kind in _DEFINING] or indexes
    first = min(_position(occurrences[i], scan, sources)[0] for i in defining)
    candidates = [i for i in defining if _position(occurrences[i], scan, sources)[0] == first]
    return min(candidates, key=lambda i: (KIND_RANK[occurrences[i].kind], occurrences[i].level,
                                          _position(occurrences[i], scan, sources)))


def _display(home: Occurrence, group: list[Occurrence], glossary: Glossary) -> str:
    """The name shown: the home's, shortened to its glossary stem, or the full name an abbreviation stands for."""
    name = shorter_name(home.name, home.entry, glossary)
    if is_abbreviation(name):
        key = normalize_name(name)
        for occ in group:
            if not is_abbreviation(occ.name) and any(normalize_name(a) == key for a in occ.aliases):
                return occ.name
    return name


def _aliases(display: str, group: list[Occurrence]) -> tuple[str, ...]:
    seen = {normalize_name(display)}
    aliases: list[str] = []
    names = [n for occ in group for n in (occ.name, *occ.aliases)]
    entry = next((occ.entry for occ in group if occ.entry is not None), None)
    if entry is not None:
        names += list(entry.names)
    for name in names:
        key = normalize_name(name)
        if key and key not in seen:
            seen.add(key)
            aliases.append(name)
    return tuple(aliases)


def _link_applications(scan: NoteScan, occurrences: list[Occurrence], glossary: Glossary) -> list[tuple]:
    """Application items: an exact name of a known concept, names contained in a phrase, or a new concept."""
    known: dict[str, str] = {}
    for occ in occurrences:
        for key in occ.keys():
            known.setdefault(key, key)
    names = {}
    for occ in occurrences:
        glossary_names = occ.entry.names if occ.entry is not None else ()
        for name in (occ.name, *occ.aliases, *glossary_names):
            names.setdefault(name, "n:" + normalize_name(occ.name))
    matcher = TermMatcher(names, ignore=active().stop_terms)
    links: list[tuple] = []
    for section_scan in scan.sections:
        if section_scan.role in ("skip", "curriculum"):
            continue
        for term in section_scan.terms:
            if term.role != "application" or term.dropped:
                continue
            for name, aliases in application_names(term, glossary):
                entry = glossary_entry(name, glossary)
                keys = {"n:" + normalize_name(n) for n in (name, *aliases)} | ({"g:" + entry.key} if entry else set())
                hit = next((k for k in sorted(keys) if k in known), None)
                if hit:
                    links.append((section_scan.section.id, term.parent, hit, term.chunk_id, True))
                    continue
                contained = [m.concept_id for m in matcher.find(name)]
                if contained:
                    links.extend((section_scan.section.id, term.parent, k, term.chunk_id, False) for k in contained)
                elif looks_like_concept(name):
                    occ = Occurrence(section_scan.section.id, None, "application", name, aliases, entry,
                                     term.chunk_id, term.line, owner_term=term.parent)
                    occurrences.append(occ)
                    links.append((section_scan.section.id, term.parent, "n:" + normalize_name(name),
                                  term.chunk_id, True))
    return links


def _chapter(section_id: str, scan: NoteScan) -> str:
    """The top-level heading above a section (a note's title does not count)."""
    chapter = ""
    current = scan.by_id.get(section_id)
    while current is not None:
        section = current.section
        is_title = section.level == 1 and current.role == "transparent"
        if section.level >= 1 and not is_title and current.role != "skip":
            chapter = clean_display(section.heading)
        current = scan.by_id.get(section.parent_id or "")
    return chapter


def chapter_of_section(section_id: str, scan: NoteScan) -> str:
    """The chapter (top-level heading, a note's title aside) a section is in."""
    return _chapter(section_id, scan)


def _defining_chunks(occ: Occurrence, scan: NoteScan) -> list[str]:
    section_scan = scan.by_id[occ.section_id]
    if occ.kind == "heading":
        return list(section_scan.chunk_ids)
    if occ.kind == "bold" and occ.term is not None:
        owned = [line.chunk_id for line in section_scan.lines if line.owner == occ.term]
        return list(dict.fromkeys(([occ.chunk_id] if occ.chunk_id else []) + owned))
    return [occ.chunk_id] if occ.chunk_id else []


def extract_concepts(sections: Sequence[Section], chunks: Sequence[Chunk], glossary: Glossary,
                     front_matter: Mapping[str, Mapping[str, Any]] | None = None) -> ConceptSet:
    """Find the concepts of the notes and merge the names that denote the same one.

    Args:
        sections: all sections of all notes.
        chunks: all chunks of all notes (their text is what is read).
        glossary: links names across languages; its entries create no concept by themselves.
        front_matter: source -> the note's parsed front matter (`ingest.graph.declared.read_front_matter`).

    Returns:
        The concepts (stable ids from their canonical names) with where each is defined and mentioned.
    """
    scan = scan_notes(sections, chunks)
    occurrences = without_structure(collect_occurrences(scan, glossary), scan)
    raw_links = _link_applications(scan, occurrences, glossary)
    declared_occ, declared_raw = declared_occurrences(scan, glossary, front_matter or {})
    occurrences += declared_occ
    occurrences += glossary_terms(scan, glossary, occurrences)
    sources = {s: i for i, s in enumerate(sorted({sec.source for sec in sections}))}
    concepts: dict[str, Concept] = {}
    concept_of = [""] * len(occurrences)
    home_of: dict[str, int] = {}
    entry_of: dict[str, str] = {}
    by_term: dict[tuple[str, int | None], list[str]] = {}
    key_to_id: dict[str, str] = {}
    positions: dict[str, tuple[int, int]] = {}
    for indexes in sorted(_group(occurrences), key=lambda g: min(_position(occurrences[i], scan, sources) for i in g)):
        group = [occurrences[i] for i in indexes]
        home = _home(indexes, occurrences, scan, sources)
        entry = next((o.entry for o in sorted(group, key=lambda o: KIND_RANK[o.kind]) if o.entry), None)
        concept = _concept_record(occurrences[home], group, entry, scan, glossary, taken=concepts)
        for i in indexes:
            concept_of[i] = concept.id
            key_to_id.update(dict.fromkeys(occurrences[i].keys(), concept.id))
            if occurrences[i].kind not in ("application", "term", "link", "tag"):
                by_term.setdefault((occurrences[i].section_id, occurrences[i].term), []).append(concept.id)
        home_of[concept.id] = home
        if entry is not None:
            entry_of[concept.id] = entry.key
        positions[concept.id] = min(_position(o, scan, sources) for o in group)
        concepts[concept.id] = concept
    applications = [ApplicationLink(section_id, owner, key_to_id[key], chunk_id, exact)
                    for section_id, owner, key, chunk_id, exact in raw_links if key in key_to_id]
    declared = [_resolve_declared(d, key_to_id, scan) for d in declared_raw]
    matcher, chunk_mentions = _finish(concepts, positions, scan)
    return ConceptSet(scan=scan, concepts=concepts, occurrences=occurrences, concept_of=concept_of, home=home_of,
                      entry_of=entry_of, applications=applications,
                      declared=[d for d in declared if d is not None], matcher=matcher,
                      by_term={k: list(dict.fromkeys(v)) for k, v in by_term.items()}, chunk_mentions=chunk_mentions)


_DEFINING = ("note", "heading", "bold", "cell", "item")


def _resolve_declared(link: DeclaredLink, key_to_id: dict[str, str], scan: NoteScan) -> DeclaredLink | None:
    """A declared edge with concept ids at both ends ("s:<section>" ends are resolved by the edge rule)."""
    ends = []
    for key in (link.source, link.target):
        ends.append(key if key.startswith("s:") else key_to_id.get(key))
    if None in ends:
        return None
    return DeclaredLink(ends[0], ends[1], link.type, link.weight, link.chunk_id, link.rule, link.detail)


def _concept_record(home: Occurrence, group: list[Occurrence], entry: GlossaryEntry | None, scan: NoteScan,
                    glossary: Glossary, taken: dict[str, Concept]) -> Concept:
    """One concept from the occurrences that name it; its id comes from its canonical name."""
    display = _display(home, group, glossary)
    canonical = entry.key if entry else normalize_name(display)
    concept_id, n = content_id(canonical), 1
    while concept_id in taken:  # two groups with one canonical name cannot happen, but ids must stay unique
        n += 1
        concept_id = content_id(canonical, str(n))
    defining = [c for o in group if o.kind in _DEFINING for c in _defining_chunks(o, scan)]
    return Concept(
        id=concept_id, name=display, aliases=_aliases(display, group),
        chapter=_chapter(home.section_id, scan),
        sections=tuple(dict.fromkeys(o.section_id for o in group if o.kind in _DEFINING)),
        chunks=tuple(dict.fromkeys(defining or _defining_chunks(home, scan))),
        sources=tuple(sorted({scan.by_id[o.section_id].section.source for o in group})),
    )


class _RememberingMatcher(TermMatcher):
    """A `TermMatcher` that keeps its matches by text: the edge rules read the same lines again and again (on
    cs231n-notes-en 9,345 lookups of 5,500 texts), and matching is most of their time."""

    def __init__(self, names: Mapping[str, str], ignore: Iterable[str] = ()):
        super().__init__(names, ignore)
        self._found: dict[str, list[Match]] = {}

    def find(self, text: str) -> list[Match]:
        found = self._found.get(text)
        if found is None:
            found = self._found[text] = super().find(text)
        return list(found)  # a fresh list: callers may change theirs


def _finish(concepts: dict[str, Concept], positions: dict[str, tuple[int, int]],
            scan: NoteScan) -> tuple[TermMatcher, dict[str, list[str]]]:
    """Reading order (updates `concepts`), the mention matcher, and the concepts each chunk mentions."""
    ranked = sorted(concepts, key=lambda cid: (positions[cid], cid))
    names = {}
    for concept_id in ranked:
        concept = concepts[concept_id]
        for name in (concept.name, *concept.aliases):
            names.setdefault(name, concept_id)
    matcher = _RememberingMatcher(names, ignore=active().stop_terms)
    chunk_mentions: dict[str, list[str]] = {}
    mentions: dict[str, list[str]] = defaultdict(list)
    for chunk in sorted(scan.chunks.values(), key=lambda c: (c.source, c.line_start, c.order)):
        chunk_mentions[chunk.id] = matcher.concepts_in(without_fences(chunk.text))
        for concept_id in chunk_mentions[chunk.id]:
            mentions[concept_id].append(chunk.id)
    for order, concept_id in enumerate(ranked):
        concept = concepts[concept_id]
        extra = tuple(c for c in mentions.get(concept_id, ()) if c not in concept.chunks)
        concepts[concept_id] = concept.model_copy(update={"order": order, "mentions": extra})
    return matcher, chunk_mentions

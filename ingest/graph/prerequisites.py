"""Prerequisite edges (learn A before B), precision first: cue phrases, reference asymmetry, curriculum order
(only where the text links the two as well), and the glossary's well-known prerequisites."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from ingest.graph.concepts import ConceptSet, chapter_of_section
from ingest.graph.drafts import Draft, cue_subject, draft, folded, text_lines
from ingest.graph.vocabulary import active
from kg.glossary import Glossary
from kg.names import normalize_name

# Cue, weight, and how far its object reaches: "sentence" (a list after 前置知识), "clause" (to the next comma),
# "clause_de" (also stops at 的: "BERT 是基于 Transformer 编码器的双向预训练模型" names Transformer, not the
# category after 的), "object" (only the names right after the cue: "requires gradient descent and momentum").
# The phrases are data (data/vocabulary.yaml, `prerequisite_cues`); the weights are how often each kind of cue
# was right on the tuning halves (cue lists 9 in 10, "based on" 6 in 10).
_CUE_KINDS: tuple[tuple[str, float, str], ...] = (
    ("list", 0.9, "sentence"), ("first", 0.9, "clause"), ("based", 0.7, "clause_de"),
    ("requires", 0.8, "object"), ("based_en", 0.6, "object"),
)


def _cues() -> list[tuple[re.Pattern[str], float, str]]:
    patterns = active().prerequisite_cues
    return [(patterns[kind], weight, scope) for kind, weight, scope in _CUE_KINDS if kind in patterns]

_BRACKETED = re.compile(r"在(?P<a>.{1,20}?)(?:的)?基础上|以(?P<b>.{1,20}?)为基础")
_ENDS = {
    "sentence": re.compile(r"[。！？!?\n]|\.(?:\s|$)"),
    "clause": re.compile(r"[。！？!?\n,，;；]|\.(?:\s|$)"),
    "clause_de": re.compile(r"[。！？!?\n,，;；的]|\.(?:\s|$)"),
}
_FILLER = re.compile(r"(?:\s|the\b|a\b|an\b|some\b|basic\b|knowledge of\b|familiarity with\b|"
                     r"(?:an )?understanding of\b|[:：])*")
_COORDINATION = re.compile(r"\s*(?:,|，|、|and|or|和|与|及|以及)?\s*(?:the\s+)?")
_BOLD_LEAD = re.compile(r"^\s*(\*\*|__)[^*_]+(\*\*|__)")
MAX_ASYMMETRY_PER_CONCEPT = 2  # prerequisites one concept gets from reference asymmetry
MAX_ASYMMETRY_FROM_CONCEPT = 6  # concepts one concept becomes a prerequisite of that way
ASYMMETRY_LEAD_LINES = 3  # running lines of a section read for what it builds on
_SENTENCES = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+")


def _objects(cs: ConceptSet, line_text: str, text: str, cue: re.Match[str], scope: str) -> list[str]:
    """The concepts a cue points at, within its scope."""
    matches = cs.matcher.find(line_text)
    if scope != "object":
        stop = _ENDS[scope].search(text, cue.end())
        end = stop.start() if stop else len(text)
        return [m.concept_id for m in matches if cue.end() <= m.start and m.end <= end]
    position = _FILLER.match(text, cue.end()).end()
    found: list[str] = []
    for m in (m for m in matches if m.start >= cue.end()):
        if m.start > position + 1:
            break
        found.append(m.concept_id)
        position = _COORDINATION.match(text, m.end).end()
    return found


def cue_phrase_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    """ "前置知识：A、B", "需要先理解 A", "B 基于 A", "B builds on A", "B requires A": A -> B."""
    for scan in cs.scan.sections:
        for line in text_lines(scan):
            text = folded(line.text)
            for cue, weight, scope in _cues():
                for match in cue.finditer(text):
                    objects = _objects(cs, line.text, text, match, scope)
                    if objects:
                        subject = cue_subject(cs, text, match.start(), scan, line)
                        for obj in objects:
                            yield draft(obj, subject, "prerequisite", weight, line.chunk_id, "cue_phrase",
                                        match.group(0))
            for match in _BRACKETED.finditer(text):
                subject = cue_subject(cs, text, match.start(), scan, line)
                for obj in _scope_concepts(cs, line.text, match.start(), match.end()):
                    yield draft(obj, subject, "prerequisite", 0.7, line.chunk_id, "cue_phrase", match.group(0))


def _scope_concepts(cs: ConceptSet, line_text: str, start: int, end: int) -> list[str]:
    return [m.concept_id for m in cs.matcher.find(line_text) if start <= m.start and m.end <= end]


def _heading_concepts(cs: ConceptSet) -> dict[str, str]:
    """Concept id -> its home section id, for concepts defined by a heading of their own."""
    return {cid: cs.occurrences[h].section_id for cid, h in cs.home.items() if cs.occurrences[h].kind == "heading"}


def _subtree(cs: ConceptSet) -> dict[str, set[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    for scan in cs.scan.sections:
        if scan.section.parent_id:
            children[scan.section.parent_id].append(scan.section.id)
    below: dict[str, set[str]] = {}

    def walk(section_id: str) -> set[str]:
        if section_id not in below:
            below[section_id] = {section_id}
            for child in children.get(section_id, ()):
                below[section_id] |= walk(child)
        return below[section_id]

    for scan in cs.scan.sections:
        walk(scan.section.id)
    return below


def _defining_references(cs: ConceptSet, section_id: str) -> list[tuple[str, str]]:
    """(concept, chunk) named in the first running sentences of a section, where a topic says what it builds on;
    a sentence that points forward ("later", "下一节") names what comes after, not before."""
    found: list[tuple[str, str]] = []
    for line in list(text_lines(cs.scan.by_id[section_id], ("prose",)))[:ASYMMETRY_LEAD_LINES]:
        text = _BOLD_LEAD.sub("", line.text)
        for sentence in _SENTENCES.split(text):
            if not active().forward_cues.search(sentence):
                found.extend((c, line.chunk_id) for c in cs.matcher.concepts_in(sentence))
    return _first_mentions(found)


def reference_asymmetry_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    """B's own sentences name A (early, or repeatedly), nothing under A names B, A comes first (or in another
    note), and neither sits under the other: A -> B, weakly, a few per concept."""
    homes = _heading_concepts(cs)
    below = _subtree(cs)
    anywhere = {cid: {c for sid in below[sec] for line in cs.scan.by_id[sid].lines
                      for c in cs.matcher.concepts_in(line.text)}
                for cid, sec in homes.items()}
    given: dict[str, int] = defaultdict(int)
    for b in sorted(homes, key=lambda c: cs.concepts[c].order):
        kept = 0
        for a, chunk in _defining_references(cs, homes[b]):
            if a not in homes or a == b or kept >= MAX_ASYMMETRY_PER_CONCEPT:
                continue
            if given[a] >= MAX_ASYMMETRY_FROM_CONCEPT:
                continue
            sa, sb = homes[a], homes[b]
            if sb in below[sa] or sa in below[sb] or b in anywhere[a]:
                continue
            ca, cb = cs.concepts[a], cs.concepts[b]
            if ca.order < cb.order or ca.sources != cb.sources:
                kept += 1
                given[a] += 1
                yield draft(a, b, "prerequisite", 0.4, chunk, "reference_asymmetry",
                            f"{cb.name} names {ca.name}; {ca.name} does not name {cb.name}")


def _first_mentions(mentions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for concept_id, chunk in mentions:
        seen.setdefault(concept_id, chunk)
    return list(seen.items())


def _resolve_item(cs: ConceptSet, text: str) -> str | None:
    """A curriculum step's concept: one whose name it is, else the one named in it that covers most of it."""
    key = normalize_name(text)
    matches = cs.matcher.find(text)
    for m in matches:
        if normalize_name(m.surface) == key:
            return m.concept_id
    longest = max(matches, key=lambda m: m.end - m.start, default=None)
    if longest is not None and len(normalize_name(longest.surface)) * 2 >= len(key):
        return longest.concept_id
    return None


def curriculum_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    """Consecutive steps of a table of contents or learning path, A then B, where B's text also names A.

    Order alone never makes an edge (it would make everything a prerequisite of everything later).
    """
    for items in cs.scan.curricula:
        resolved = [(cid, chunk) for text, chunk in items if (cid := _resolve_item(cs, text))]
        for (a, chunk), (b, _) in zip(resolved, resolved[1:], strict=False):
            if a == b:
                continue
            home = cs.occurrences[cs.home[b]]
            if home.kind != "heading" or a in {c for c, _ in _parents(cs, b)}:
                continue
            evidence = next((chunk for c, chunk in _defining_references(cs, home.section_id) if c == a), None)
            if evidence:
                yield draft(a, b, "prerequisite", 0.3, chunk, "curriculum_order", "listed before it")
                yield draft(a, b, "prerequisite", 0.3, evidence, "curriculum_order", "and named in its text")


def _parents(cs: ConceptSet, concept_id: str) -> list[tuple[str, str]]:
    """The concepts whose sections hold the concept's home section (its wholes in the notes' hierarchy)."""
    found = []
    section_id = cs.scan.by_id[cs.occurrences[cs.home[concept_id]].section_id].section.parent_id
    while section_id and (whole := cs.section_concept(section_id)):
        found.append((whole, section_id))
        section_id = cs.scan.by_id[section_id].section.parent_id
    return found


def _named_in(cs: ConceptSet, chunk_id: str) -> list[str]:
    return cs.chunk_mentions.get(chunk_id, [])


def glossary_edges(cs: ConceptSet, glossary: Glossary) -> Iterator[Draft | None]:
    """Well-known prerequisites from the glossary, when both concepts are in the notes."""
    by_entry = {key: cid for cid, key in cs.entry_of.items()}
    for b, key in cs.entry_of.items():
        for pre in glossary.prerequisites(key):
            a = by_entry.get(pre)
            if a is None:
                continue
            concept = cs.concepts[b]
            chunks = list(concept.chunks) + list(concept.mentions)
            evidence = next((c for c in concept.chunks if a in _named_in(cs, c)), chunks[0] if chunks else None)
            yield draft(a, b, "prerequisite", 0.6, evidence, "glossary",
                        f"{glossary.entry(pre).en or glossary.entry(pre).zh} before {glossary.entry(key).en or key}")


# A later chapter builds on an earlier one when its passages name at least this many distinct concepts defined
# there; each chapter keeps its strongest two. Chosen on the seed's and ailearning's tuning chapters: at 3 the
# links read like a syllabus (数学基础 -> 机器学习 -> 深度学习); at 2 every chapter linked to the first one.
CHAPTER_MIN_CONCEPTS = 2
CHAPTER_SOURCES = 2
CHAPTER_WEIGHT = 0.6


def chapter_reference_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    """Curriculum structure: chapter A before chapter B when B's passages name several concepts A defines
    (reference direction across chapters). Chapters are the top headings of one note, in reading order (files
    have no order a rule can trust: "第二章" sorts before "第四章" but after "README")."""
    heads: dict[str, str] = {}  # chapter name -> its concept
    for cid, concept in cs.concepts.items():
        occ = cs.occurrences[cs.home[cid]]
        if occ.kind == "heading" and concept.chapter and normalize_name(concept.chapter) in {
                normalize_name(n) for n in (concept.name, *concept.aliases, occ.name)}:
            heads.setdefault(concept.chapter, cid)
    if len(heads) < 2:
        return
    defined_in = {cid: c.chapter for cid, c in cs.concepts.items() if c.chapter in heads}
    rank = {chapter: cs.concepts[cid].order for chapter, cid in heads.items()}
    named: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    best_chunk: dict[tuple[str, str], tuple[int, str]] = {}
    for chunk_id, concepts in cs.chunk_mentions.items():
        chunk = cs.scan.chunks[chunk_id]
        reader = chapter_of_section(chunk.section_id, cs.scan)
        if reader not in heads:
            continue
        per: dict[str, int] = defaultdict(int)
        for cid in concepts:
            source = defined_in.get(cid)
            same_note = source and cs.concepts[heads[source]].sources == cs.concepts[heads[reader]].sources
            if same_note and source != reader and rank[source] < rank[reader]:
                named[reader][source].add(cid)
                per[source] += 1
        for source, count in per.items():
            if count > best_chunk.get((source, reader), (0, ""))[0]:
                best_chunk[(source, reader)] = (count, chunk_id)
    for reader, sources in named.items():
        strong = sorted(((len(c), s) for s, c in sources.items() if len(c) >= CHAPTER_MIN_CONCEPTS), reverse=True)
        for count, source in strong[:CHAPTER_SOURCES]:
            examples = ", ".join(sorted(cs.concepts[c].name for c in sources[source])[:3])
            yield draft(heads[source], heads[reader], "prerequisite", CHAPTER_WEIGHT,
                        best_chunk[(source, reader)][1], "chapter_references",
                        f"{reader} names {count} concepts of {source} ({examples})")


def prerequisite_edges(cs: ConceptSet, glossary: Glossary) -> list[Draft]:
    """All prerequisite drafts; weak signals carry low weights so paths can prefer the strong ones."""
    found = [*cue_phrase_edges(cs), *reference_asymmetry_edges(cs), *curriculum_edges(cs),
             *glossary_edges(cs, glossary), *chapter_reference_edges(cs)]
    return [d for d in found if d]

"""Typed edges between concepts, each with its evidence: the chunk that shows it and the rule that read it there.

part_of and used_in come from the notes' structure here; prerequisite rules live in `ingest.graph.prerequisites`,
`related` (embedding similarity) in `ingest.graph.related`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator

from ingest.graph.concepts import ConceptSet
from ingest.graph.drafts import Draft, cue_subject, draft, folded, text_lines
from ingest.graph.vocabulary import active
from kg.glossary import Glossary
from kg.names import normalize_name

log = logging.getLogger(__name__)

PART_OF_WEIGHT = {"heading": 1.0, "bold": 0.9, "cell": 0.8, "item": 0.8, "example": 0.7}
# Cue phrases are data (data/vocabulary.yaml): `application_cues` ("X 常用于图像分类", "used for ..."): the concept
# right after is where X is used; an item led by an `examples` list label ("- 例子：随机森林") names examples.


# ------------------------------------------------------------------------------------------------ part_of


def _first_chunk(cs: ConceptSet, section_id: str) -> str | None:
    """The section's first chunk, else the first chunk of a section under it (a heading with nothing of its own)."""
    scan = cs.scan.by_id[section_id]
    if scan.chunk_ids:
        return scan.chunk_ids[0]
    for other in cs.scan.sections:
        if other.section.parent_id == section_id and (chunk := _first_chunk(cs, other.section.id)):
            return chunk
    return None


def _whole_of(cs: ConceptSet, concept_id: str) -> str | None:
    """The concept that the home of `concept_id` sits in: the heading above, the bold term or item above."""
    occ = cs.occurrences[cs.home[concept_id]]
    scan = cs.scan.by_id[occ.section_id]
    if occ.kind == "heading":
        return cs.section_concept(scan.section.parent_id)
    if occ.kind == "example" and occ.term is None:  # named in a heading's parentheses
        return cs.section_concept(occ.section_id)
    if occ.kind in ("pair", "application") or occ.term is None:
        return None
    named = cs.by_term.get((occ.section_id, occ.term), [])
    if occ.kind == "example" and named and named[0] != concept_id:
        return named[0]
    return cs.owner_concept(occ.section_id, scan.terms[occ.term].parent)


def _lists_its_owner(cs: ConceptSet, concept_id: str, whole: str | None) -> bool:
    """An item whose list also names the list's owner ("LoRA" under LoRA's 微调方法): the items are its peers."""
    occ = cs.occurrences[cs.home[concept_id]]
    if occ.kind != "item" or occ.term is None or whole is None:
        return False
    scan = cs.scan.by_id[occ.section_id]
    parent = scan.terms[occ.term].parent
    return any(term.kind == "item" and term.parent == parent and whole in cs.by_term.get((occ.section_id, i), [])
               for i, term in enumerate(scan.terms))


WIDELY_NAMED_SOURCES = 3


def _widely_named(cs: ConceptSet, concept_id: str) -> bool:
    """A concept named in several other notes is a topic of its own, not a part of the paragraph that
    happens to define it in bold ("**Backpropagation.**" under Convolutional Layer)."""
    concept = cs.concepts[concept_id]
    others = {cs.scan.chunks[c].source for c in concept.mentions} - set(concept.sources)
    return len(others) >= WIDELY_NAMED_SOURCES


def part_of_edges(cs: ConceptSet) -> list[Draft]:
    """Each concept is part of what its defining place sits in: the heading above, the term whose list holds it."""
    drafts = []
    for concept_id, home in cs.home.items():
        occ = cs.occurrences[home]
        if occ.kind not in PART_OF_WEIGHT:
            continue
        whole = _whole_of(cs, concept_id)
        if _lists_its_owner(cs, concept_id, whole) or (occ.kind != "heading" and _widely_named(cs, concept_id)):
            continue
        chunk = occ.chunk_id or _first_chunk(cs, occ.section_id)
        rule = {"heading": "heading_hierarchy", "cell": "table_row", "example": "examples"}.get(occ.kind, "list_item")
        rule = "bold_term" if occ.kind == "bold" else rule
        drafts.append(draft(concept_id, whole, "part_of", PART_OF_WEIGHT[occ.kind], chunk, rule))
    return [d for d in drafts if d]


# ------------------------------------------------------------------------------------------------ used_in


def _application_list_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    for link in cs.applications:
        owner = cs.owner_concept(link.section_id, link.owner_term)
        yield draft(owner, link.target, "used_in", 0.8 if link.exact else 0.5, link.chunk_id, "application_list",
                    "named in an application list" if link.exact else "named inside an application item")


def _cue_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    """ "X 常用于图像分类": X used_in the concept right after the cue; "- 例子：随机森林": the item's owner used_in it."""
    for scan in cs.scan.sections:
        for line in text_lines(scan):
            text = folded(line.text)
            matches = cs.matcher.find(line.text)
            example = active().example_item.match(text)
            if example:
                owner = cs.owner_concept(scan.section.id, line.owner)
                for m in matches:
                    if m.start >= example.end():
                        yield draft(owner, m.concept_id, "used_in", 0.6, line.chunk_id, "application_cue", "例子/e.g.")
                continue
            for cue in active().application_cues.finditer(text):
                after = next((m for m in matches if m.start >= cue.end() and not text[cue.end():m.start].strip()),
                             None)
                if after is not None:
                    subject = cue_subject(cs, text, cue.start(), scan, line)
                    yield draft(subject, after.concept_id, "used_in", 0.7, line.chunk_id, "application_cue",
                                cue.group(0))


def _code_edges(cs: ConceptSet, glossary: Glossary) -> Iterator[Draft | None]:
    """Code under B that calls an identifier of A (glossary `code`, e.g. nn.MultiheadAttention): A used_in B."""
    identifiers = [(cid, ident) for cid, key in cs.entry_of.items() for ident in glossary.entry(key).code]
    if not identifiers:
        return
    for scan in cs.scan.sections:
        blocks: dict[tuple[int | None, str], list[str]] = defaultdict(list)
        for line in text_lines(scan, ("code",)):
            blocks[(line.owner, line.chunk_id)].append(line.text)
        for (owner, chunk_id), lines in blocks.items():
            code = "\n".join(lines)
            user = cs.owner_concept(scan.section.id, owner)
            for concept_id, ident in identifiers:
                if ident in code:
                    yield draft(concept_id, user, "used_in", 0.5, chunk_id, "code_usage", ident)


def _table_edges(cs: ConceptSet) -> Iterator[Draft | None]:
    """A table whose rows name concepts (tasks) and a model/method column: the models are used_in the row."""
    for scan in cs.scan.sections:
        header: list[str] | None = None
        for line in scan.lines:
            if line.kind != "table":
                header = None
                continue
            cells = [c.strip() for c in line.text.strip().strip("|").split("|")]
            if header is None:
                header = [normalize_name(c) for c in cells]
                continue
            if set(line.text.strip()) <= set("|-: "):
                continue
            row = cs.matcher.concepts_in(cells[0]) if cells else []
            for column, cell in enumerate(cells[1:], start=1):
                if row and column < len(header) and header[column] in active().model_headers:
                    for model in cs.matcher.concepts_in(cell):
                        yield draft(model, row[0], "used_in", 0.6, line.chunk_id, "table_column", header[column])


def used_in_edges(cs: ConceptSet, glossary: Glossary) -> list[Draft]:
    """A is used in B: application lists and cues, code that calls A in B's section, model columns of tables."""
    found = [*_application_list_edges(cs), *_cue_edges(cs), *_code_edges(cs, glossary), *_table_edges(cs)]
    return [d for d in found if d]


# ------------------------------------------------------------------------------------------------ declared


def declared_edges(cs: ConceptSet) -> list[Draft]:
    """Edges the notes declare (wikilinks, front matter `prerequisites:` and `tags:`), at their declared weight;
    a link written in a section of a note that stands for no concept belongs to the section's concept."""
    found = []
    for link in cs.declared:
        ends = [cs.section_concept(key[2:]) if key.startswith("s:") else key for key in (link.source, link.target)]
        if link.type == "related" and all(ends):  # one related edge per pair, the earlier concept first
            ends.sort(key=lambda c: (cs.concepts[c].order, c))
        found.append(draft(ends[0], ends[1], link.type, link.weight, link.chunk_id, link.rule, link.detail))
    return [d for d in found if d]

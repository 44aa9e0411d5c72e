"""What edge rules produce: drafts (one reason for an edge each), the helpers rules share, and merging."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ingest.graph.concepts import ConceptSet
from ingest.graph.scan import NoteLine, SectionScan
from studygraph.records import Edge, EdgeType, Evidence

log = logging.getLogger(__name__)

SENTENCE_END = re.compile(r"[。！？!?\n]|\.\s")


@dataclass(frozen=True)
class Draft:
    """One reason for an edge; drafts of the same (source, target, type) are merged into one edge."""

    source: str
    target: str
    type: EdgeType
    weight: float
    evidence: Evidence


def draft(source: str | None, target: str | None, type_: EdgeType, weight: float, chunk_id: str | None,
          rule: str, detail: str = "") -> Draft | None:
    if not source or not target or source == target or not chunk_id:
        return None
    return Draft(source, target, type_, weight, Evidence(chunk_id=chunk_id, rule=rule, detail=detail[:120]))


def folded(text: str) -> str:
    """The text as the matcher sees it (NFKC, lower case): cue regexes and match spans line up."""
    return unicodedata.normalize("NFKC", text).lower()


def text_lines(scan: SectionScan, kinds: tuple[str, ...] = ("prose", "item")) -> Iterator[NoteLine]:
    return (line for line in scan.lines if line.kind in kinds)


def cue_subject(cs: ConceptSet, text: str, before: int, scan: SectionScan, line: NoteLine) -> str | None:
    """Who a cue is about: the first concept named earlier in the sentence, else the line's owner.

    `text` is the folded line (`folded(line.text)`); names are matched in the line itself (abbreviations keep
    their case) and their spans line up with the folded text.
    """
    start = max((m.end() for m in SENTENCE_END.finditer(text, 0, before)), default=0)
    for match in cs.matcher.find(line.text):
        if start <= match.start and match.end <= before:
            return match.concept_id
    return cs.owner_concept(scan.section.id, line.owner)


def merge_drafts(drafts: Sequence[Draft]) -> list[Edge]:
    """One edge per (source, target, type); independent reasons combine (noisy-or), evidence is kept in order."""
    grouped: dict[tuple[str, str, EdgeType], list[Draft]] = defaultdict(list)
    for d in drafts:
        grouped[(d.source, d.target, d.type)].append(d)
    edges = []
    for (source, target, type_), group in sorted(grouped.items()):
        best: dict[str, float] = {}
        for d in group:  # the same rule seen twice is one reason, at its strongest
            best[d.evidence.rule] = max(best.get(d.evidence.rule, 0.0), d.weight)
        weight = 1.0 - float(np.prod([1.0 - w for w in best.values()]))
        evidence = tuple(dict.fromkeys(d.evidence for d in group))
        edges.append(Edge(source=source, target=target, type=type_, weight=round(min(weight, 1.0), 3),
                          evidence=evidence))
    return edges


def drop_contradictions(edges: list[Edge], order: Callable[[str], int]) -> list[Edge]:
    """Between two concepts, "learn before" (prerequisite, used_in) points one way: where a used_in edge
    disagrees with the other direction, the weaker way is dropped (two prerequisites that disagree are a cycle,
    left to `ConceptGraph.break_cycles`, which records it). A whole used_in its own part is dropped too.
    """
    strength: dict[tuple[str, str], float] = defaultdict(float)
    prerequisites = {(e.source, e.target) for e in edges if e.type == "prerequisite"}
    for e in edges:
        if e.type in ("prerequisite", "used_in"):
            strength[(e.source, e.target)] = max(strength[(e.source, e.target)], e.weight)
    wholes = {(e.source, e.target) for e in edges if e.type == "part_of"}
    kept = []
    for e in edges:
        if e.type == "used_in" and (e.target, e.source) in wholes:
            continue  # a whole "used in" its own part says nothing the hierarchy does not
        back = strength.get((e.target, e.source), 0.0)
        if e.type == "prerequisite" and (e.target, e.source) in prerequisites:
            kept.append(e)  # two prerequisites that disagree: `ConceptGraph.break_cycles` decides and records it
            continue
        if e.type in ("prerequisite", "used_in") and back:
            mine = strength[(e.source, e.target)]
            if back > mine or (back == mine and order(e.target) < order(e.source)):
                log.debug("dropped %s %s -> %s: the other way is stronger", e.type, e.source, e.target)
                continue
        kept.append(e)
    return kept

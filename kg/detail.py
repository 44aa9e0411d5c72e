"""Everything about one concept: names, defining passages, and its edges of each kind with resolved evidence."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from kg.graph import ConceptGraph
from kg.reading import source_ref
from studygraph.records import Chunk, Edge, EdgeType, SourceRef

# The relation lists of a ConceptDetail, in the order they are shown: (field, edge type, direction).
# "in" lists the edge's source (the other end points at this concept), "out" its target.
RELATIONS: tuple[tuple[str, EdgeType, str], ...] = (
    ("prerequisites", "prerequisite", "in"),
    ("dependents", "prerequisite", "out"),
    ("uses", "used_in", "in"),
    ("used_in", "used_in", "out"),
    ("part_of", "part_of", "out"),
    ("parts", "part_of", "in"),
)


class _Detail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceRef(_Detail):
    """Why an edge exists, with its chunk resolved to file, heading path and lines (None: not in this workspace)."""

    chunk_id: str
    rule: str
    detail: str = ""
    source: str | None = None
    heading_path: tuple[str, ...] = ()
    line_start: int | None = None
    line_end: int | None = None


class LinkedConcept(_Detail):
    """The concept at the other end of an edge, the edge's weight and its evidence."""

    concept: str
    concept_id: str
    weight: float
    evidence: tuple[EvidenceRef, ...] = ()


class ConceptDetail(_Detail):
    """One concept with every relation; what `studygraph concept NAME --json` prints and the app's panel shows."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    chapter: str = ""
    importance: float = 0.0
    community: int = 0
    sources: tuple[SourceRef, ...] = Field((), description="Passages that define the concept, in reading order.")
    prerequisites: tuple[LinkedConcept, ...] = Field((), description="Learn these before it.")
    dependents: tuple[LinkedConcept, ...] = Field((), description="Concepts that build on it.")
    uses: tuple[LinkedConcept, ...] = Field((), description="Tools it uses.")
    used_in: tuple[LinkedConcept, ...] = Field((), description="Where it is used.")
    part_of: tuple[LinkedConcept, ...] = Field((), description="Wholes it belongs to.")
    parts: tuple[LinkedConcept, ...] = Field((), description="Its parts.")
    related: tuple[LinkedConcept, ...] = Field((), description="Similar concepts (embedding and shared words).")


def resolve_evidence(edge: Edge, chunks: Mapping[str, Chunk]) -> tuple[EvidenceRef, ...]:
    """The evidence of an edge, each piece with the location of its chunk when the workspace holds it."""
    resolved = []
    for ev in edge.evidence:
        chunk = chunks.get(ev.chunk_id)
        where = chunk.model_dump(include={"source", "heading_path", "line_start", "line_end"}) if chunk else {}
        resolved.append(EvidenceRef(chunk_id=ev.chunk_id, rule=ev.rule, detail=ev.detail, **where))
    return tuple(resolved)


def _linked(graph: ConceptGraph, edge: Edge, other: str, chunks: Mapping[str, Chunk]) -> LinkedConcept:
    return LinkedConcept(concept=graph.concept(other).name, concept_id=other, weight=edge.weight,
                         evidence=resolve_evidence(edge, chunks))


def _by_weight(edge: Edge) -> tuple[float, str, str]:
    return (-edge.weight, edge.source, edge.target)


def concept_detail(graph: ConceptGraph, chunks: Mapping[str, Chunk], concept_id: str) -> ConceptDetail:
    """Everything about one concept: names, defining passages, and each kind of edge (strongest first).

    Args:
        graph: the concept graph.
        chunks: the workspace's chunks by id (to resolve passages and evidence).
        concept_id: a concept of the graph.

    Returns:
        The concept's detail; passages and evidence whose chunk is missing keep only their chunk id.

    Raises:
        KeyError: the graph has no such concept.
    """
    concept = graph.concept(concept_id)
    lists: dict[str, tuple[LinkedConcept, ...]] = {}
    for name, type_, direction in RELATIONS:
        edges = graph.in_edges(concept_id, type_) if direction == "in" else graph.out_edges(concept_id, type_)
        lists[name] = tuple(_linked(graph, e, e.source if direction == "in" else e.target, chunks)
                            for e in sorted(edges, key=_by_weight))
    lists["related"] = tuple(_linked(graph, e, e.target, chunks) for e in graph.related(concept_id))
    sources = tuple(source_ref(chunks[c]) for c in concept.chunks if c in chunks)
    return ConceptDetail(id=concept.id, name=concept.name, aliases=concept.aliases, chapter=concept.chapter,
                         importance=concept.importance, community=concept.community, sources=sources, **lists)

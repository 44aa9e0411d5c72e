"""The concept graph: concepts and typed edges on a networkx MultiDiGraph, persisted as sorted node-link JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import BaseModel, ValidationError

from studygraph.errors import WorkspaceError
from studygraph.records import EDGE_TYPES, Concept, Edge, EdgeType, Evidence
from studygraph.workspace import atomic_write_text

GRAPH_FILE = "graph.json"
GRAPH_SCHEMA = 1


class BrokenCycle(BaseModel):
    """A prerequisite edge removed to keep the prerequisite graph acyclic, with the cycle it closed."""

    removed: Edge
    cycle: list[str]


class ConceptGraph:
    """Concepts as nodes; one edge per (source, target, type), keyed by type.

    `prerequisite` A -> B: learn A before B. `used_in` A -> B: A is a tool used in B. `part_of` A -> B: A is a
    part of B. `related` A -> B: similar descriptions (stored once per pair, read both ways).
    """

    def __init__(self, concepts: Iterable[Concept] = (), edges: Iterable[Edge] = (),
                 broken_cycles: Iterable[BrokenCycle] = ()):
        self.g: nx.MultiDiGraph = nx.MultiDiGraph()
        for concept in concepts:
            self.g.add_node(concept.id, concept=concept)
        for edge in edges:
            self.add_edge(edge)
        self.broken_cycles: list[BrokenCycle] = list(broken_cycles)

    # ------------------------------------------------------------------ building

    def add_edge(self, edge: Edge) -> None:
        """Add an edge between existing concepts; a repeated (source, target, type) merges evidence and weight."""
        if edge.source == edge.target or edge.source not in self.g or edge.target not in self.g:
            return
        existing = self.edge(edge.source, edge.target, edge.type)
        if existing is not None:
            evidence = tuple(dict.fromkeys(existing.evidence + edge.evidence))
            edge = existing.model_copy(update={"weight": max(existing.weight, edge.weight), "evidence": evidence})
        self.g.add_edge(edge.source, edge.target, key=edge.type, edge=edge)

    def remove_edge(self, source: str, target: str, type_: EdgeType) -> None:
        if self.g.has_edge(source, target, key=type_):
            self.g.remove_edge(source, target, key=type_)

    def replace_concept(self, concept: Concept) -> None:
        self.g.nodes[concept.id]["concept"] = concept

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self.g.number_of_nodes()

    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self.g

    @property
    def concepts(self) -> list[Concept]:
        """All concepts, in the notes' reading order."""
        return sorted((d["concept"] for _, d in self.g.nodes(data=True)), key=lambda c: (c.order, c.id))

    def concept(self, concept_id: str) -> Concept:
        return self.g.nodes[concept_id]["concept"]

    def edge(self, source: str, target: str, type_: EdgeType) -> Edge | None:
        data = self.g.get_edge_data(source, target, key=type_)
        return data["edge"] if data else None

    def edges(self, type_: EdgeType | None = None) -> list[Edge]:
        """All edges (of one type), in a stable order."""
        found = [d["edge"] for _, _, k, d in self.g.edges(keys=True, data=True) if type_ is None or k == type_]
        return sorted(found, key=lambda e: (e.type, e.source, e.target))

    def out_edges(self, concept_id: str, type_: EdgeType) -> list[Edge]:
        """Edges from the concept: its dependents (prerequisite), what it is used in, its whole (part_of)."""
        return [d["edge"] for _, _, k, d in self.g.out_edges(concept_id, keys=True, data=True) if k == type_]

    def in_edges(self, concept_id: str, type_: EdgeType) -> list[Edge]:
        """Edges into the concept: its prerequisites, the tools it uses, its parts."""
        return [d["edge"] for _, _, k, d in self.g.in_edges(concept_id, keys=True, data=True) if k == type_]

    def related(self, concept_id: str) -> list[Edge]:
        """`related` edges touching the concept, both directions, oriented so `target` is the other concept."""
        out = self.out_edges(concept_id, "related")
        back = [e.model_copy(update={"source": e.target, "target": e.source})
                for e in self.in_edges(concept_id, "related")]
        return sorted(out + back, key=lambda e: -e.weight)

    def prerequisites_of(self, concept_id: str, transitive: bool = False,
                         types: tuple[EdgeType, ...] = ("prerequisite",)) -> set[str]:
        """Concepts to learn before this one (directly, or all ancestors along the given edge types)."""
        direct = {e.source for t in types for e in self.in_edges(concept_id, t)}
        if not transitive:
            return direct
        seen: set[str] = set()
        stack = list(direct)
        while stack:
            node = stack.pop()
            if node in seen or node == concept_id:
                continue
            seen.add(node)
            stack.extend(e.source for t in types for e in self.in_edges(node, t))
        return seen

    def parts_of(self, concept_id: str, transitive: bool = False) -> set[str]:
        """Concepts that are part of this one (children in the notes' hierarchy)."""
        direct = {e.source for e in self.in_edges(concept_id, "part_of")}
        if not transitive:
            return direct
        seen: set[str] = set()
        stack = list(direct)
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(e.source for e in self.in_edges(node, "part_of"))
        return seen

    def neighbourhood(self, concept_id: str, depth: int = 1,
                      types: Iterable[EdgeType] = EDGE_TYPES) -> set[str]:
        """Concepts within `depth` hops of the concept along the given edge types, either direction."""
        wanted = set(types)
        frontier, seen = {concept_id}, {concept_id}
        for _ in range(max(depth, 0)):
            nxt: set[str] = set()
            for node in frontier:
                for _, other, k in self.g.out_edges(node, keys=True):
                    if k in wanted:
                        nxt.add(other)
                for other, _, k in self.g.in_edges(node, keys=True):
                    if k in wanted:
                        nxt.add(other)
            frontier = nxt - seen
            seen |= nxt
        return seen

    def prerequisite_dag(self) -> nx.DiGraph:
        """The prerequisite edges alone, as a simple DiGraph (acyclic once `break_cycles` has run)."""
        dag = nx.DiGraph()
        dag.add_nodes_from(self.g.nodes)
        dag.add_edges_from((e.source, e.target, {"weight": e.weight}) for e in self.edges("prerequisite"))
        return dag

    # ------------------------------------------------------------------ computed properties

    def break_cycles(self) -> list[BrokenCycle]:
        """Remove the weakest edge of each prerequisite cycle until none is left; record what was removed."""
        broken: list[BrokenCycle] = []
        while True:
            try:
                cycle = nx.find_cycle(self.prerequisite_dag())
            except nx.NetworkXNoCycle:
                break
            edges = [self.edge(u, v, "prerequisite") for u, v in cycle]
            weakest = min((e for e in edges if e is not None),
                          key=lambda e: (e.weight, len(e.evidence), e.source, e.target))
            self.remove_edge(weakest.source, weakest.target, "prerequisite")
            broken.append(BrokenCycle(removed=weakest, cycle=[u for u, _ in cycle]))
        self.broken_cycles.extend(broken)
        return broken

    def compute_importance(self) -> None:
        """PageRank over all edges, pointing from a concept to what it enables, stored on each concept."""
        if not len(self):
            return
        simple = nx.DiGraph()
        simple.add_nodes_from(self.g.nodes)
        for e in self.edges():
            # A prerequisite or tool matters when much builds on it: rank flows target -> source.
            simple.add_edge(e.target, e.source, weight=e.weight)
        ranks = nx.pagerank(simple, weight="weight")
        top = max(ranks.values()) or 1.0
        for node, rank in ranks.items():
            self.replace_concept(self.concept(node).model_copy(update={"importance": round(rank / top, 6)}))

    def compute_communities(self) -> None:
        """Louvain communities on the undirected graph (deterministic seed), numbered by size."""
        if not len(self):
            return
        undirected = nx.Graph()
        undirected.add_nodes_from(sorted(self.g.nodes))
        for e in self.edges():
            undirected.add_edge(e.source, e.target, weight=e.weight)
        groups = nx.community.louvain_communities(undirected, weight="weight", seed=7)
        groups = sorted(groups, key=lambda g: (-len(g), min(g)))
        for number, group in enumerate(groups):
            for node in group:
                self.replace_concept(self.concept(node).model_copy(update={"community": number}))

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict[str, Any]:
        """Sorted node-link data: the same graph always gives the same bytes."""
        return {
            "schema": GRAPH_SCHEMA,
            "directed": True,
            "multigraph": True,
            "nodes": [c.model_dump(mode="json") for c in sorted(self.concepts, key=lambda c: c.id)],
            "links": [e.model_dump(mode="json") for e in self.edges()],
            "broken_cycles": [b.model_dump(mode="json") for b in self.broken_cycles],
        }

    @classmethod
    def from_json(cls, data: Any, origin: str = GRAPH_FILE) -> ConceptGraph:
        """Validate and load; any inconsistency is a WorkspaceError naming the file.

        Raises:
            WorkspaceError: wrong schema, malformed records, or edges that name unknown concepts.
        """
        if not isinstance(data, dict) or data.get("schema") != GRAPH_SCHEMA:
            raise WorkspaceError(f"{origin} is not a studygraph graph of schema {GRAPH_SCHEMA}.")
        try:
            concepts = [Concept.model_validate(n) for n in data.get("nodes", [])]
            edges = [Edge.model_validate(e) for e in data.get("links", [])]
            broken = [BrokenCycle.model_validate(b) for b in data.get("broken_cycles", [])]
        except ValidationError as exc:
            raise WorkspaceError(f"{origin} is malformed: {exc.errors()[0]['msg']} at "
                                 f"{'.'.join(map(str, exc.errors()[0]['loc']))}.") from None
        ids = {c.id for c in concepts}
        if len(ids) != len(concepts):
            raise WorkspaceError(f"{origin} is malformed: duplicate concept ids.")
        dangling = [e for e in edges if e.source not in ids or e.target not in ids]
        if dangling:
            raise WorkspaceError(f"{origin} is malformed: edge {dangling[0].source} -> {dangling[0].target} "
                                 "names a concept that does not exist.")
        return cls(concepts, edges, broken)

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> ConceptGraph:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"Cannot read {path}: {exc}.") from None
        return cls.from_json(data, origin=str(path))

    def evidence_chunks(self) -> Iterator[tuple[Edge, Evidence]]:
        for edge in self.edges():
            for ev in edge.evidence:
                yield edge, ev

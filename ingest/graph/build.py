"""Build the concept graph from all current sections and chunks: concepts, typed edges with evidence, then
cycle breaking, importance and communities. Pure orchestration of pure functions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from ingest.graph.concepts import ConceptSet, extract_concepts
from ingest.graph.drafts import drop_contradictions, merge_drafts
from ingest.graph.edges import part_of_edges, used_in_edges
from ingest.graph.prerequisites import prerequisite_edges
from ingest.graph.related import related_edges
from kg.glossary import Glossary
from kg.graph import ConceptGraph
from studygraph.records import Chunk, Edge, Section
from studygraph.settings import GraphSettings

log = logging.getLogger(__name__)


def extract_edges(cs: ConceptSet, glossary: Glossary, embed: Callable[[Sequence[str]], np.ndarray] | None,
                  settings: GraphSettings) -> list[Edge]:
    """All edges between the concepts, merged, with contradictions between directions removed.

    Args:
        cs: the concepts and where they are written (`extract_concepts`).
        glossary: supplies well-known prerequisites and code identifiers.
        embed: embeds concept descriptions (normalized vectors) for `related` edges; None: no related edges.
        settings: graph settings (related top-k and threshold).
    """
    drafts = [*part_of_edges(cs), *used_in_edges(cs, glossary), *prerequisite_edges(cs, glossary)]
    edges = drop_contradictions(merge_drafts(drafts), lambda cid: cs.concepts[cid].order)
    if embed is not None and settings.related_top_k > 0:
        edges += related_edges(cs, embed, settings, edges)
    return edges


def build_graph(sections: Sequence[Section], chunks: Sequence[Chunk],
                embed: Callable[[Sequence[str]], np.ndarray] | None, glossary: Glossary,
                settings: GraphSettings) -> ConceptGraph:
    """The concept graph of the notes as they are now.

    Called with every current section and chunk each time notes change, so a concept or edge whose only
    evidence was in a deleted or edited note disappears with it.

    Args:
        sections: all sections of all notes.
        chunks: all chunks of all notes.
        embed: the embedder's `encode_documents` (normalized vectors), for `related` edges; None: none.
        glossary: bilingual names and well-known prerequisites (`kg.glossary.load_glossary`).
        settings: graph settings.

    Returns:
        The graph, with an acyclic prerequisite subgraph (broken cycles recorded), importance and communities.
    """
    concept_set = extract_concepts(sections, chunks, glossary)
    edges = extract_edges(concept_set, glossary, embed, settings)
    graph = ConceptGraph(concept_set.concepts.values(), edges)
    broken = graph.break_cycles()
    if broken:
        log.info("broke %d prerequisite cycle(s) at their weakest edge", len(broken))
    graph.compute_importance()
    graph.compute_communities()
    log.info("concept graph: %d concepts, %d edges", len(graph), len(graph.edges()))
    return graph

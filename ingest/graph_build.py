"""Build the concept graph from all current sections and chunks: concepts, typed edges with evidence, then
cycle breaking, importance and communities. Pure orchestration of pure functions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from ingest.concepts import extract_concepts
from ingest.edges import extract_edges
from kg.glossary import Glossary
from kg.graph import ConceptGraph
from studygraph.records import Chunk, Section
from studygraph.settings import GraphSettings

log = logging.getLogger(__name__)


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
    if settings.llm_confirm_edges:
        log.warning("graph.llm_confirm_edges is not implemented yet; edges are kept as the rules found them.")
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

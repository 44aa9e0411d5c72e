"""Build the concept graph from all current sections and chunks: concepts, typed edges with evidence, then
cycle breaking, importance and communities. Pure orchestration of pure functions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ingest.graph.concepts import ConceptSet, extract_concepts
from ingest.graph.drafts import drop_contradictions, merge_drafts
from ingest.graph.edges import declared_edges, part_of_edges, used_in_edges
from ingest.graph.prerequisites import prerequisite_edges
from ingest.graph.related import related_edges
from ingest.graph.vocabulary import use_vocabulary
from kg.glossary import Glossary
from kg.graph import ConceptGraph
from studygraph.records import Chunk, Edge, Section
from studygraph.settings import GraphSettings

log = logging.getLogger(__name__)

# A prerequisite edge is kept when its reasons together (noisy-or of the rule weights) reach this. Chosen on the
# tuning halves of seed, paddle-dl-zh, cs231n-notes-en and obsidian-thesis-en (hand-labelled edges, see
# tests/data/graph-labels/README.md): reference asymmetry alone (0.4) was right about 6 times in 10 and
# curriculum order alone (0.3) 7 in 10, cue phrases (0.6-0.9) 8 in 10 and the glossary (0.6) 19 in 20; at 0.5
# a weak reason needs a second one (0.4 and 0.3 give 0.58), which lifted tuning-half precision from about 0.75
# to about 0.9.
PREREQUISITE_MIN_WEIGHT = 0.5


def extract_edges(cs: ConceptSet, glossary: Glossary, embed: Callable[[Sequence[str]], np.ndarray] | None,
                  settings: GraphSettings, chunk_vectors: Mapping[str, np.ndarray] | None = None) -> list[Edge]:
    """All edges between the concepts, merged, with contradictions between directions removed.

    Args:
        cs: the concepts and where they are written (`extract_concepts`).
        glossary: supplies well-known prerequisites and code identifiers.
        embed: embeds concept descriptions (normalized vectors) for `related` edges; None: no related edges.
        settings: graph settings (related top-k and threshold).
        chunk_vectors: chunk id -> the chunk's vector, reused for headings' descriptions where the chunk is mostly
            prose (`ingest.graph.related.description_vectors`); None: every description is embedded.
    """
    drafts = [*declared_edges(cs), *part_of_edges(cs), *used_in_edges(cs, glossary), *prerequisite_edges(cs, glossary)]
    merged = [e for e in merge_drafts(drafts) if e.type != "prerequisite" or e.weight >= PREREQUISITE_MIN_WEIGHT]
    edges = drop_contradictions(merged, lambda cid: cs.concepts[cid].order)
    if embed is not None and settings.related_top_k > 0:
        edges += related_edges(cs, embed, settings, edges, chunk_vectors)
    return edges


def build_graph(sections: Sequence[Section], chunks: Sequence[Chunk],
                embed: Callable[[Sequence[str]], np.ndarray] | None, glossary: Glossary,
                settings: GraphSettings, front_matter: Mapping[str, Mapping[str, Any]] | None = None,
                chunk_vectors: Mapping[str, np.ndarray] | None = None) -> ConceptGraph:
    """The concept graph of the notes as they are now.

    Called with every current section and chunk each time notes change, so a concept or edge whose only
    evidence was in a deleted or edited note disappears with it.

    Args:
        sections: all sections of all notes.
        chunks: all chunks of all notes.
        embed: the embedder's `encode_documents` (normalized vectors), for `related` edges; None: none.
        glossary: bilingual names and well-known prerequisites (`kg.glossary.load_glossary`).
        settings: graph settings.
        front_matter: source -> the note's parsed front matter (`ingest.graph.declared.read_front_matter`):
            its `aliases:`, `tags:` and `prerequisites:` become aliases and edges.
        chunk_vectors: chunk id -> the vector `embed` gave the chunk's `context_text()` (ingest's embedding
            cache): a heading concept's description vector is its section's first chunk's where that chunk is mostly
            prose (`ingest.graph.related.section_chunk`); None: all are embedded.

    Returns:
        The graph, with an acyclic prerequisite subgraph (broken cycles recorded), importance and communities.
    """
    use_vocabulary(settings.vocabulary)
    concept_set = extract_concepts(sections, chunks, glossary, front_matter)
    edges = extract_edges(concept_set, glossary, embed, settings, chunk_vectors)
    graph = ConceptGraph(concept_set.concepts.values(), edges)
    broken = graph.break_cycles()
    if broken:
        log.info("broke %d prerequisite cycle(s) at their weakest edge", len(broken))
    graph.compute_importance()
    graph.compute_communities()
    log.info("concept graph: %d concepts, %d edges", len(graph), len(graph.edges()))
    return graph

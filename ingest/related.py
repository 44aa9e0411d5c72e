"""`related` edges: concepts whose descriptions (name, aliases and defining text) embed close to each other."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ingest.concepts import ConceptSet
from studygraph.records import Edge, Evidence
from studygraph.settings import GraphSettings

_DESCRIPTION_CHARS = 400


def describe(cs: ConceptSet, concept_id: str) -> str:
    """Name, aliases and the text where the concept is defined (its section's prose, its paragraph, its item)."""
    concept = cs.concepts[concept_id]
    occ = cs.occurrences[cs.home[concept_id]]
    scan = cs.scan.by_id[occ.section_id]
    if occ.kind == "heading":
        lines = [line.text for line in scan.lines if line.kind in ("prose", "item", "table")]
    elif occ.kind == "bold" and occ.term is not None:
        lines = [line.text for line in scan.lines if line.owner == occ.term and line.kind != "blank"]
    else:
        lines = [line.text for line in scan.lines if line.no == occ.line]
    head = " / ".join((concept.name, *concept.aliases[:3]))
    return f"{head}: {' '.join(lines)}"[:_DESCRIPTION_CHARS]


def related_edges(cs: ConceptSet, embed: Callable[[Sequence[str]], np.ndarray], settings: GraphSettings,
                  existing: Sequence[Edge]) -> list[Edge]:
    """For each concept, its most similar others above the threshold, once per pair, skipping linked pairs.

    Args:
        cs: the concepts.
        embed: returns one normalized vector per text.
        settings: `related_top_k` and `related_threshold`.
        existing: edges already found; a pair they link gets no `related` edge.
    """
    ids = [cid for cid in sorted(cs.concepts, key=lambda c: cs.concepts[c].order) if cs.concepts[cid].chunks]
    if len(ids) < 2:
        return []
    vectors = np.asarray(embed([describe(cs, cid) for cid in ids]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    linked = {frozenset((e.source, e.target)) for e in existing}
    chosen: dict[frozenset[str], float] = {}
    for i, cid in enumerate(ids):
        for j in np.argsort(-sims[i], kind="stable")[: settings.related_top_k]:
            pair = frozenset((cid, ids[j]))
            if sims[i, j] >= settings.related_threshold and pair not in linked:
                chosen[pair] = float(sims[i, j])
    edges = []
    for pair, sim in chosen.items():
        a, b = sorted(pair, key=lambda c: (cs.concepts[c].order, c))
        evidence = tuple(dict.fromkeys(Evidence(chunk_id=cs.concepts[c].chunks[0], rule="embedding_similarity",
                                                detail=f"cosine {sim:.2f}") for c in (a, b)))
        edges.append(Edge(source=a, target=b, type="related", weight=round(sim, 3), evidence=evidence))
    return sorted(edges, key=lambda e: (e.source, e.target))

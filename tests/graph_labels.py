"""Hand labels of concept-graph output on each corpus: which half a concept belongs to, sampling, and scoring.

Each corpus is split into a tuning half and a test half: for a folder corpus by the parity of a file's position
in sorted order, for the single-file seed note by the parity of its chapter. Rules and weights are tuned looking
at the tuning half; the labels in `tests/data/graph-labels/NAME.yaml` are sampled from the test half.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import yaml

from graph_records import folder_records, note_records
from kg.glossary import load_glossary
from kg.graph import ConceptGraph
from kg.names import normalize_name
from kg.resolve import ConceptResolver
from studygraph.records import Chunk, Section

TESTS = Path(__file__).parent
REPO = TESTS.parent
LABELS = TESTS / "data" / "graph-labels"
SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"
CORPUS_DIRS = {
    "seed": SEED,
    "paddle-dl-zh": TESTS / "data" / "corpora" / "paddle-dl-zh",
    "cs231n-notes-en": TESTS / "data" / "corpora" / "cs231n-notes-en",
    "ailearning-notes-zh": TESTS / "data" / "corpora" / "ailearning-notes-zh",
    "obsidian-thesis-en": TESTS / "data" / "corpora" / "obsidian-thesis-en",
}
SAMPLE_CONCEPTS = 40
SAMPLE_EDGES = 20


@lru_cache(maxsize=8)
def corpus_records(name: str) -> tuple[list[Section], list[Chunk]]:
    """Sections and chunks of a corpus, made by the real parser and chunker."""
    path = CORPUS_DIRS[name]
    if path.is_file():
        return note_records(path.read_text(encoding="utf-8"), path.name)
    return folder_records(path)


@lru_cache(maxsize=8)
def _files(name: str) -> list[str]:
    path = CORPUS_DIRS[name]
    return [path.name] if path.is_file() else sorted(p.name for p in path.glob("*.md"))


@lru_cache(maxsize=8)
def _seed_chapters() -> list[str]:
    from kg.names import clean_display

    sections, _ = corpus_records("seed")
    return [clean_display(s.heading) for s in sections if s.level == 2]


def half_of(name: str, source: str, chapter: str) -> str:
    """"tune" or "test": the half a concept defined in `source` (under `chapter`) belongs to."""
    if name == "seed":
        chapters = _seed_chapters()
        index = chapters.index(chapter) if chapter in chapters else 0
        return "test" if index % 2 else "tune"
    files = _files(name)
    index = files.index(source) if source in files else 0
    return "test" if index % 2 else "tune"


def concept_half(graph: ConceptGraph, name: str, concept_id: str) -> str:
    concept = graph.concept(concept_id)
    return half_of(name, concept.sources[0] if concept.sources else "", concept.chapter)


def load_labels(name: str) -> dict | None:
    path = LABELS / f"{name}.yaml"
    if not path.exists():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def sample_for_labels(graph: ConceptGraph, name: str, labels: dict | None) -> tuple[list[str], list[list[str]]]:
    """Unlabelled test-half concepts and prerequisite edges, in a fixed pseudo-random order, topping the
    labelled set up to SAMPLE_CONCEPTS and SAMPLE_EDGES."""
    labels = labels or {}
    seen = {normalize_name(c["name"]) for c in labels.get("concepts", [])}
    seen_edges = {(normalize_name(e["source"]), normalize_name(e["target"])) for e in labels.get("edges", [])}
    test = [c for c in graph.concepts if concept_half(graph, name, c.id) == "test"]
    fresh = sorted((c for c in test if normalize_name(c.name) not in seen), key=lambda c: _digest(c.name))
    concepts = [c.name for c in fresh[: max(0, SAMPLE_CONCEPTS - len(seen))]]
    edges = []
    for edge in sorted(graph.edges("prerequisite"), key=lambda e: _digest(e.source + e.target)):
        if concept_half(graph, name, edge.target) != "test":
            continue
        pair = (graph.concept(edge.source).name, graph.concept(edge.target).name)
        if (normalize_name(pair[0]), normalize_name(pair[1])) not in seen_edges:
            edges.append(list(pair))
    return concepts, edges[: max(0, SAMPLE_EDGES - len(seen_edges))]


def _exact(resolver: ConceptResolver, name: str) -> str | None:
    found = resolver.resolve(name)
    return found.concept_id if found.how in ("exact", "normalized", "alias", "glossary") else None


def score_labels(graph: ConceptGraph, labels: dict, name: str = "") -> dict:
    """Precision of the labelled concepts and prerequisite edges the graph still has, and which frequent terms
    of the corpus are concepts.

    Returns:
        concept_precision, concepts_found (labelled ones the graph still has), edge_precision, edges_found,
        frequent_found, frequent_missing.
    """
    resolver = ConceptResolver(graph, load_glossary())
    names = {normalize_name(n) for c in graph.concepts for n in (c.name, *c.aliases)}
    found = [c for c in labels.get("concepts", []) if normalize_name(c["name"]) in names]
    edges = []
    for edge in labels.get("edges", []):
        a, b = _exact(resolver, edge["source"]), _exact(resolver, edge["target"])
        if a and b and graph.edge(a, b, "prerequisite") is not None:
            edges.append(edge)
    frequent = labels.get("frequent_terms", [])
    missing = [t for t in frequent if _exact(resolver, t) is None]
    return {
        "concept_precision": round(sum(c["ok"] for c in found) / len(found), 3) if found else None,
        "concepts_found": f"{len(found)}/{len(labels.get('concepts', []))}",
        "concepts_wrong": [c["name"] for c in found if not c["ok"]],
        "edge_precision": round(sum(e["ok"] for e in edges) / len(edges), 3) if edges else None,
        "edges_found": f"{len(edges)}/{len(labels.get('edges', []))}",
        "edges_wrong": [f"{e['source']} -> {e['target']}" for e in edges if not e["ok"]],
        "frequent_found": f"{len(frequent) - len(missing)}/{len(frequent)}",
        "frequent_missing": missing,
    }

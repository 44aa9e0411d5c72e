"""Concept-graph quality and speed on the seed and the vendored corpora: labelled precision on the held-out half.

Usage: python bench/graph.py [--corpus NAME ...] [--dump DIR] [--sample] [--related]

For each corpus the graph is built over all its notes (as a user would ingest them); the files are split into a
tuning half and a test half (`tests/graph_labels.half_of`). Precision is read against the labels in
`tests/data/graph-labels/NAME.yaml` (concepts and prerequisite edges sampled from the test half, labelled by
hand); `--dump` writes every concept and prerequisite edge per half for labelling, `--sample` prints a fresh
sample of unlabelled ones from the test half. Graph build time is printed next to the parse+chunk time.
`--related` also builds the `related` edges with the configured embedder, the chunk vectors taken as ingest takes
them (`ingest.graph.related.description_vectors`), and counts them (`--dump` lists them, to judge by hand).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from graph_labels import (  # noqa: E402
    CORPUS_DIRS,
    corpus_records,
    half_of,
    load_labels,
    sample_for_labels,
    score_labels,
)
from ingest.graph.build import build_graph  # noqa: E402
from kg.glossary import load_glossary  # noqa: E402
from retrieval.embedders import build_embedder  # noqa: E402
from studygraph.settings import EmbedderSettings, GraphSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="*", default=list(CORPUS_DIRS))
    parser.add_argument("--dump", type=Path, default=None)
    parser.add_argument("--sample", action="store_true")
    parser.add_argument("--related", action="store_true", help="Also build `related` edges (embeds every chunk).")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    glossary = load_glossary()
    embedder = build_embedder(EmbedderSettings()) if args.related else None
    for name in args.corpus:
        started = time.perf_counter()
        sections, chunks = corpus_records(name)
        parse_s = time.perf_counter() - started
        embed, chunk_vectors = None, None
        if embedder is not None:  # the chunks embedded as ingest embeds them (not graph time)
            chunk_vectors = dict(zip([c.id for c in chunks],
                                     embedder.encode_documents([c.context_text() for c in chunks]), strict=True))
            embed = embedder.encode_documents
        started = time.perf_counter()
        graph = build_graph(sections, chunks, embed, glossary, GraphSettings(), chunk_vectors=chunk_vectors)
        graph_s = time.perf_counter() - started
        labels = load_labels(name)
        result = {"corpus": name, "concepts": len(graph), "prerequisites": len(graph.edges("prerequisite")),
                  "parse_s": round(parse_s, 2), "graph_s": round(graph_s, 2)}
        if embedder is not None:
            result["related"] = len(graph.edges("related"))
        if labels is not None:
            result.update(score_labels(graph, labels, name))
        print(json.dumps(result, ensure_ascii=False))
        if args.sample:
            concepts, edges = sample_for_labels(graph, name, labels)
            print("  concepts:", json.dumps(concepts, ensure_ascii=False))
            print("  edges:", json.dumps(edges, ensure_ascii=False))
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            with open(args.dump / f"{name}.txt", "w", encoding="utf-8") as out:
                for concept in graph.concepts:
                    half = {half_of(name, s, concept.chapter) for s in concept.sources}
                    out.write(f"C {'/'.join(sorted(half))}\t{concept.name}\t{' | '.join(concept.aliases[:3])}\t"
                              f"{concept.chapter}\n")
                for edge in graph.edges("prerequisite"):
                    rules = ",".join(sorted({ev.rule for ev in edge.evidence}))
                    out.write(f"E {graph.concept(edge.source).name} -> {graph.concept(edge.target).name}\t"
                              f"{edge.weight}\t{rules}\n")
                for edge in graph.edges("related"):
                    out.write(f"R {graph.concept(edge.source).name} | {graph.concept(edge.target).name}\t"
                              f"{edge.weight}\t{edge.evidence[0].detail}\n")


if __name__ == "__main__":
    main()

"""Retrieval at scale: build time, memory and query latency of studygraph's indexes next to raw FAISS and bm25s.

Usage: python bench/retrieval.py [--sizes 10000,100000] [--base 1500] [--repeat 3] [--k 10]

Synthetic workspaces: every chunk joins two paragraphs drawn from the corpora and the seed note under a
heading path, so vocabulary, lengths and the Chinese/English mix are those of real notes. Embedding 100k texts
on a laptop CPU takes far too long for a benchmark, so only the `--base` paragraphs are embedded with the real
bundled model; a chunk's vector is the normalized sum of its two paragraphs' vectors plus a little noise
(realistic clusters, not random points). Likewise a chunk's BM25 tokens are its paragraphs' cached tokens (exactly
what the tokenizer gives for the joined text, checked on a sample), and tokenization time is measured on up to
10k chunks and scaled. Queries are the dev-set questions, embedded for real; their embedding time is reported
apart and the searcher gets the precomputed vectors, so its latency excludes embedding.

Per query, in the same run and on the same objects: studygraph's dense / lexical / hybrid search (concept boost
off: no graph here), raw `faiss` `index.search` (on one OpenMP thread, as studygraph searches), raw `bm25s`
`retrieve`, and bm25s' scoring core alone (`get_scores` + `argpartition`, a stricter baseline); the raw side gets
the query's tokens, so it does not pay for tokenizing. Ratios compare p50 and p95 latencies. The run also checks
that dense and lexical modes return the same top-k as the raw libraries.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from retrieval.embedders import build_embedder  # noqa: E402
from retrieval.indexing import lexical_tokens  # noqa: E402
from retrieval.lexical import LexicalIndex  # noqa: E402
from retrieval.search import HybridSearcher, SearchParams  # noqa: E402
from retrieval.tokenize import tokenize  # noqa: E402
from retrieval.vector_index import VectorIndex, choose_kind, faiss_id, single_threaded  # noqa: E402
from studygraph.records import Chunk, content_id  # noqa: E402
from studygraph.settings import EmbedderSettings, RetrievalSettings  # noqa: E402

SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"
CORPORA = REPO / "tests" / "data" / "corpora"
QA_FILES = [REPO / "tests" / "data" / f for f in ("seed-dev-qa.jsonl", "paddle-dev-qa.jsonl", "cs231n-dev-qa.jsonl")]
_HEADING = re.compile(r"^#{1,6}\s+(.+)$")


def rss_mb() -> float:
    """Resident memory of this process (Linux /proc; 0 where unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def base_paragraphs(limit: int, rng: random.Random) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs from the corpora and the seed: blank-line blocks of 40-800 characters."""
    files = [SEED, *sorted(CORPORA.glob("*/*.md"))]
    found: list[tuple[str, str]] = []
    for path in files:
        heading = path.stem
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            first = block.strip().splitlines()[0] if block.strip() else ""
            if match := _HEADING.match(first):
                heading = match.group(1).strip()
                continue
            if 40 <= len(block.strip()) <= 800:
                found.append((heading, block.strip()))
    rng.shuffle(found)
    return found[:limit]


class CachedEmbedder:
    """Query vectors computed beforehand by the real model: the searcher's latency then excludes embedding."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray]):
        self.name, self._vectors = name, vectors
        self._dim = len(next(iter(vectors.values())))

    @property
    def dim(self) -> int:
        return self._dim

    def encode_queries(self, texts):  # noqa: ANN001, ANN201
        return np.stack([self._vectors[t] for t in texts])

    encode_documents = encode_queries


def synthesize(n: int, base: list[tuple[str, str]], base_vectors: np.ndarray, base_tokens: list[list[str]],
               heading_repeat: int, seed: int) -> tuple[list[Chunk], np.ndarray, list[list[str]]]:
    """n chunks joining two base paragraphs each, their vectors and their BM25 token lists."""
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, len(base), size=(n, 2))
    heading_tokens: dict[tuple[str, ...], list[str]] = {}
    chunks, tokens = [], []
    for i, (a, b) in enumerate(pairs.tolist()):
        path = (f"note-{i % 997}", base[a][0])
        text = base[a][1] + "\n" + base[b][1]
        chunks.append(Chunk(id=content_id(str(i), text, prefix="c"), source=f"note-{i % 997}.md", section_id="s",
                            heading_path=path, line_start=1, line_end=2, text=text, order=i))
        if path not in heading_tokens:
            heading_tokens[path] = tokenize(" ".join(path))
        tokens.append(heading_tokens[path] * (1 + heading_repeat) + base_tokens[a] + base_tokens[b])
    vectors = base_vectors[pairs[:, 0]] + base_vectors[pairs[:, 1]]
    vectors += rng.normal(scale=0.05, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, vectors.astype(np.float32), tokens


def check_tokens(chunks: list[Chunk], tokens: list[list[str]], heading_repeat: int) -> None:
    for i in random.Random(7).sample(range(len(chunks)), min(50, len(chunks))):
        assert tokens[i] == lexical_tokens(chunks[i], heading_repeat), "cached tokens differ from the tokenizer"


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def disk_mb(save: Callable[[Path], None]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "component"
        save(target)
        files = [target] if target.is_file() else list(target.rglob("*"))
        return sum(f.stat().st_size for f in files if f.is_file()) / 2**20


def build(chunks: list[Chunk], vectors: np.ndarray, tokens: list[list[str]], settings: RetrievalSettings) -> dict:
    """Build both indexes, timing each and measuring memory and size on disk."""
    sample = chunks[:10_000]
    _, tokenize_s = timed(lambda: [lexical_tokens(c, settings.heading_repeat) for c in sample])
    kind = choose_kind(len(chunks), settings.exact_index_max)
    rss0 = rss_mb()
    vindex = VectorIndex(kind, vectors.shape[1], settings.hnsw_m, settings.hnsw_ef_search)
    _, vector_s = timed(lambda: vindex.add([c.id for c in chunks], vectors))
    rss1 = rss_mb()
    lindex, lexical_s = timed(lambda: LexicalIndex.build([c.id for c in chunks], tokens, settings.bm25_k1,
                                                         settings.bm25_b))
    rss2 = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        vindex.save(Path(tmp) / "faiss.index")
        lindex.save(Path(tmp) / "lexical")
        _, load_s = timed(lambda: (VectorIndex.load(Path(tmp) / "faiss.index", [c.id for c in chunks]),
                                   LexicalIndex.load(Path(tmp) / "lexical")))
    return {"kind": kind, "vindex": vindex, "lindex": lindex, "vector_s": vector_s, "lexical_s": lexical_s,
            "tokenize_s": tokenize_s * len(chunks) / len(sample), "tokenize_scaled": len(chunks) > len(sample),
            "vector_mb": rss1 - rss0, "lexical_mb": rss2 - rss1, "load_s": load_s,
            "vector_disk_mb": disk_mb(vindex.save), "lexical_disk_mb": disk_mb(lindex.save)}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1e3


def raw_operations(searcher: HybridSearcher, queries: list[str], vectors: dict[str, np.ndarray],
                   k: int) -> dict[str, Callable[[str], object]]:
    """The raw libraries on the very objects the searcher holds (FAISS on one thread, as studygraph runs it)."""
    faiss_index, bm25 = searcher.vectors.index, searcher.lexical.retriever
    tokens = {q: list(dict.fromkeys(tokenize(q))) or [""] for q in queries}

    def raw_faiss(q: str) -> object:
        with single_threaded():
            return faiss_index.search(vectors[q][None, :], k)

    def bm25s_core(q: str) -> object:
        scores = bm25.get_scores(tokens[q])
        top = np.argpartition(-scores, k)[:k]
        return top[np.argsort(-scores[top])]

    return {"raw faiss": raw_faiss,
            "raw bm25s": lambda q: bm25.retrieve([tokens[q]], k=k, show_progress=False, n_threads=0),
            "bm25s core": bm25s_core}


def measure_queries(searcher: HybridSearcher, queries: list[str], vectors: dict[str, np.ndarray], k: int,
                    repeat: int) -> dict[str, tuple[float, float]]:
    """p50/p95 (ms) per operation, interleaved query by query so load on the machine hits all alike."""
    ops = raw_operations(searcher, queries, vectors, k)
    for mode in ("dense", "lexical", "hybrid"):
        ops[mode] = lambda q, mode=mode: searcher.search(q, SearchParams(k=k, mode=mode))
    samples: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(repeat):
        for q in queries:
            for name, op in ops.items():
                samples[name].append(timed(lambda op=op, q=q: op(q))[1])
    return {name: percentiles(s) for name, s in samples.items()}


def agreement(searcher: HybridSearcher, queries: list[str], vectors: dict[str, np.ndarray], k: int) -> str:
    """How often studygraph's dense and lexical modes return exactly what the raw libraries return."""
    raw = raw_operations(searcher, queries, vectors, k)
    same_dense = same_lexical = 0
    for q in queries:
        _, faiss_ids = raw["raw faiss"](q)
        expected = [i for i in faiss_ids[0].tolist() if i >= 0]
        same_dense += [faiss_id(h.chunk.id) for h in searcher.search(q, SearchParams(k=k, mode="dense"))] == expected
        result = raw["raw bm25s"](q)  # ties at the cut may pick other documents: compare the scores
        expected = sorted((round(float(s), 4) for s in result.scores[0] if s > 0), reverse=True)
        hits = searcher.search(q, SearchParams(k=k, mode="lexical"))
        same_lexical += [round(h.score, 4) for h in hits] == expected
    return (f"same top-{k} as raw faiss {same_dense}/{len(queries)}, same top-{k} BM25 scores as raw bm25s "
            f"{same_lexical}/{len(queries)}")


def hnsw_recall(searcher: HybridSearcher, all_vectors: np.ndarray, ids: list[str], queries: np.ndarray,
                k: int) -> float:
    """Share of the exact top-k the vector index returns (1.0 for the flat index)."""
    exact = np.argsort(-(queries @ all_vectors.T), axis=1)[:, :k]
    found = searcher.vectors.search(queries, k)
    hits = sum(len({ids[j] for j in row} & {cid for cid, _ in got}) for row, got in zip(exact, found, strict=True))
    return hits / (k * len(queries))


def load_queries() -> list[str]:
    return [json.loads(line)["q"] for f in QA_FILES for line in f.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def embed_queries(embedder, queries: list[str]) -> tuple[dict[str, np.ndarray], tuple[float, float]]:
    times, vectors = [], {}
    for q in queries:
        vec, seconds = timed(lambda q=q: embedder.encode_queries([q])[0])
        vectors[q] = vec
        times.append(seconds)
    return vectors, percentiles(times)


def report(n: int, built: dict, lat: dict[str, tuple[float, float]], recall: float, rss_chunks: float,
           agree: str) -> None:
    scaled = " (scaled from 10k)" if built["tokenize_scaled"] else ""
    print(f"\n== {n:,} chunks: vector index '{built['kind']}', recall@10 vs exact search {recall:.3f}; {agree}")
    print(f"build: faiss {built['vector_s']:.1f} s, bm25s {built['lexical_s']:.1f} s, "
          f"tokenize {built['tokenize_s']:.1f} s{scaled}; load both {built['load_s']:.2f} s")
    print(f"memory: chunk records + tokens {rss_chunks:.0f} MB; RSS growth while building: faiss "
          f"{built['vector_mb']:.0f} MB ({built['vector_disk_mb']:.0f} MB on disk), bm25s {built['lexical_mb']:.0f} MB "
          f"({built['lexical_disk_mb']:.0f} MB on disk)")
    print(f"{'operation':<12} {'p50 ms':>8} {'p95 ms':>8}")
    for name, (p50, p95) in lat.items():
        print(f"{name:<12} {p50:>8.2f} {p95:>8.2f}")
    for bm25 in ("raw bm25s", "bm25s core"):
        raw50, raw95 = (lat["raw faiss"][i] + lat[bm25][i] for i in (0, 1))
        print(f"hybrid / (raw faiss + {bm25}) = {lat['hybrid'][0] / raw50:.2f} (p50), "
              f"{lat['hybrid'][1] / raw95:.2f} (p95)")
    print(f"dense / raw faiss = {lat['dense'][0] / lat['raw faiss'][0]:.2f}; lexical / raw bm25s = "
          f"{lat['lexical'][0] / lat['raw bm25s'][0]:.2f}, / bm25s core = {lat['lexical'][0] / lat['bm25s core'][0]:.2f}"
          " (p50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="Workspace sizes in chunks, comma-separated.")
    parser.add_argument("--base", type=int, default=1500, help="Real paragraphs embedded with the real model.")
    parser.add_argument("--repeat", type=int, default=3, help="Passes over the query set.")
    parser.add_argument("--k", type=int, default=10, help="Results per query.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = RetrievalSettings()
    embedder = build_embedder(EmbedderSettings())
    base = base_paragraphs(args.base, random.Random(0))
    base_vectors, embed_s = timed(lambda: embedder.encode_documents([f"{h}\n{t}" for h, t in base]))
    base_tokens = [tokenize(t) for _, t in base]
    queries = load_queries()
    query_vectors, embed_lat = embed_queries(embedder, queries)
    print(f"{len(base)} base paragraphs embedded in {embed_s:.1f} s; {len(queries)} queries x {args.repeat} passes; "
          f"query embedding p50 {embed_lat[0]:.1f} ms, p95 {embed_lat[1]:.1f} ms (not in the latencies below)")
    cached = CachedEmbedder(embedder.name, query_vectors)
    for n in (int(s) for s in args.sizes.split(",")):
        rss0 = rss_mb()
        chunks, vectors, tokens = synthesize(n, base, base_vectors, base_tokens, settings.heading_repeat, seed=n)
        check_tokens(chunks, tokens, settings.heading_repeat)
        rss_chunks = rss_mb() - rss0
        built = build(chunks, vectors, tokens, settings)
        searcher = HybridSearcher({c.id: c for c in chunks}, built["vindex"], built["lindex"], cached, settings)
        latencies = measure_queries(searcher, queries, query_vectors, args.k, args.repeat)
        recall = hnsw_recall(searcher, vectors, [c.id for c in chunks], np.stack(list(query_vectors.values())), 10)
        report(n, built, latencies, recall, rss_chunks, agreement(searcher, queries, query_vectors, args.k))
        del searcher, built, chunks, vectors, tokens


if __name__ == "__main__":
    main()

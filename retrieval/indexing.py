"""Write a generation's retrieval components: the embedding cache, the FAISS index and the BM25 index.

Only chunks whose ids are new to the embedding cache are embedded; chunk ids are content-derived, so an
unchanged passage keeps its id and its vector across ingests. Components that did not change are carried
over from the previous generation (hard links) instead of being rewritten.

Layout in the generation directory::

    vectors/ids.json          chunk ids, one per row of embeddings.npy
    vectors/embeddings.npy    float32 (n, dim), L2-normalized, saved with allow_pickle=False
    vectors/meta.json         {"embedder": name, "dim": dim}: a cache built by another embedder is not reused
    faiss.index               retrieval.vector_index.VectorIndex (flat or HNSW by size)
    lexical/                  retrieval.lexical.LexicalIndex (bm25s arrays + JSON) and config.json
    text_vectors.npz          vectors of other texts by content hash (the graph's concept descriptions,
                              `cached_encoder`), so an ingest re-embeds only the descriptions that changed
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from retrieval.lexical import LexicalIndex
from retrieval.tokenize import tokenize
from retrieval.vector_index import VectorIndex, choose_kind
from studygraph.errors import WorkspaceError

if TYPE_CHECKING:
    from retrieval.embedders import Embedder
    from studygraph.records import Chunk
    from studygraph.settings import RetrievalSettings
    from studygraph.workspace import Snapshot, Transaction

log = logging.getLogger(__name__)

VECTORS_DIR = "vectors"
VECTOR_IDS = "vectors/ids.json"
VECTOR_EMBEDDINGS = "vectors/embeddings.npy"
VECTOR_META = "vectors/meta.json"
FAISS_INDEX = "faiss.index"
LEXICAL_DIR = "lexical"
LEXICAL_CONFIG = "lexical/config.json"
TEXT_VECTORS = "text_vectors.npz"
# Chunks handed to the embedder per call, i.e. how often progress is reported (every second or two). The
# encoders batch further inside: USE in micro-batches of 384 tokens (its throughput is flat above that),
# sentence-transformers by EmbedderSettings.batch_size; so a larger batch would not embed faster.
EMBED_BATCH = 256

Progress = Callable[[str, int, int], None]


def lexical_tokens(chunk: Chunk, heading_repeat: int) -> list[str]:
    """The BM25 document of a chunk: its heading path (weighted by repetition, a simple BM25F) and its text."""
    heading = tokenize(" ".join(h for h in chunk.heading_path if h))
    return heading * (1 + heading_repeat) + tokenize(chunk.text)


def lexical_config(settings: RetrievalSettings) -> dict:
    """Settings the lexical index was built with; a change rebuilds it."""
    return {"k1": settings.bm25_k1, "b": settings.bm25_b, "heading_repeat": settings.heading_repeat, "version": 2}


class EmbeddingCache:
    """Chunk id -> embedding rows of one generation."""

    def __init__(self, ids: list[str], embeddings: np.ndarray, embedder: str, dim: int):
        self.ids, self.embeddings, self.embedder, self.dim = ids, embeddings, embedder, dim
        self.row = {cid: i for i, cid in enumerate(ids)}

    @classmethod
    def read(cls, snapshot: Snapshot) -> EmbeddingCache:
        """The cache of a snapshot.

        Raises:
            WorkspaceError: missing or inconsistent files.
        """
        try:
            meta = json.loads(snapshot.path(VECTOR_META).read_text(encoding="utf-8"))
            ids = json.loads(snapshot.path(VECTOR_IDS).read_text(encoding="utf-8"))
            embeddings = np.load(snapshot.path(VECTOR_EMBEDDINGS), allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"Cannot read the embedding cache of {snapshot.root}: {exc}") from None
        if embeddings.ndim != 2 or len(ids) != len(embeddings):
            raise WorkspaceError(f"The embedding cache of {snapshot.root} is inconsistent (ids vs rows).")
        return cls(ids, embeddings.astype(np.float32, copy=False), meta.get("embedder", ""), int(meta.get("dim", 0)))

    def write(self, tx: Transaction) -> None:
        tx.path(VECTOR_IDS).write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")
        np.save(tx.path(VECTOR_EMBEDDINGS), np.ascontiguousarray(self.embeddings, dtype=np.float32),
                allow_pickle=False)
        tx.path(VECTOR_META).write_text(json.dumps({"embedder": self.embedder, "dim": self.dim}), encoding="utf-8")


def _previous_cache(previous: Snapshot | None, embedder: Embedder) -> EmbeddingCache | None:
    if previous is None or not previous.has(VECTOR_IDS):
        return None
    try:
        cache = EmbeddingCache.read(previous)
    except WorkspaceError as exc:  # a damaged cache costs a re-embedding, not the ingest
        log.warning("Re-embedding everything: %s", exc)
        return None
    if cache.embedder != embedder.name or cache.dim != embedder.dim:
        log.info("Embedding cache was built by %s/%d; re-embedding everything.", cache.embedder, cache.dim)
        return None
    return cache


def _embed(chunks: Sequence[Chunk], embedder: Embedder, progress: Progress | None) -> np.ndarray:
    parts = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start:start + EMBED_BATCH]
        parts.append(embedder.encode_documents([c.context_text() for c in batch]))
        if progress:
            progress("embed", start + len(batch), len(chunks))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _new_cache(old: EmbeddingCache | None, chunks: Sequence[Chunk], embedder: Embedder,
               progress: Progress | None) -> tuple[EmbeddingCache, list[str], list[str]]:
    """The cache for `chunks`, plus the ids newly embedded and the ids dropped."""
    old_rows = old.row if old else {}
    fresh = [c for c in chunks if c.id not in old_rows]
    vectors = _embed(fresh, embedder, progress)
    fresh_rows = {c.id: i for i, c in enumerate(fresh)}
    embeddings = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    for i, chunk in enumerate(chunks):
        if chunk.id in fresh_rows:
            embeddings[i] = vectors[fresh_rows[chunk.id]]
        else:
            embeddings[i] = old.embeddings[old_rows[chunk.id]]  # type: ignore[union-attr]
    current = {c.id for c in chunks}
    removed = [cid for cid in (old.ids if old else []) if cid not in current]
    cache = EmbeddingCache([c.id for c in chunks], embeddings, embedder.name, embedder.dim)
    return cache, [c.id for c in fresh], removed


def _vector_index(tx: Transaction, previous: Snapshot | None, cache: EmbeddingCache, reused: bool,
                  added: list[str], removed: list[str], settings: RetrievalSettings) -> None:
    kind = choose_kind(len(cache.ids), settings.exact_index_max)
    index = None
    if reused and previous is not None and previous.has(FAISS_INDEX):
        try:
            index = VectorIndex.load(previous.path(FAISS_INDEX), cache.ids + removed, settings.hnsw_ef_search)
        except WorkspaceError as exc:
            log.warning("Rebuilding the vector index: %s", exc)
        # HNSW cannot drop nodes; a fresh build from the cache is the documented way to remove.
        if index is not None and (index.kind != kind or (kind == "hnsw" and removed)):
            index = None
    if index is not None and not added and not removed:
        tx.carry(FAISS_INDEX)
        return
    if index is None:
        index = VectorIndex(kind, cache.dim, settings.hnsw_m, settings.hnsw_ef_search)
        index.add(cache.ids, cache.embeddings)
    else:
        index.remove(removed)
        rows = [cache.row[cid] for cid in added]
        index.add(added, cache.embeddings[rows] if rows else np.zeros((0, cache.dim), np.float32))
    index.save(tx.path(FAISS_INDEX))


def _lexical_index(tx: Transaction, previous: Snapshot | None, chunks: Sequence[Chunk],
                   settings: RetrievalSettings, progress: Progress | None) -> None:
    config = lexical_config(settings)
    if previous is not None and previous.has(LEXICAL_CONFIG):
        try:
            same_config = json.loads(previous.path(LEXICAL_CONFIG).read_text(encoding="utf-8")) == config
            same_ids = json.loads(previous.path(f"{LEXICAL_DIR}/ids.json").read_text(encoding="utf-8")) == [
                c.id for c in chunks]
        except (OSError, ValueError, WorkspaceError):
            same_config = same_ids = False
        if same_config and same_ids:
            tx.carry(LEXICAL_DIR)
            return
    documents = []
    for i, chunk in enumerate(chunks):
        documents.append(lexical_tokens(chunk, settings.heading_repeat))
        if progress and ((i + 1) % 1000 == 0 or i + 1 == len(chunks)):
            progress("tokenize", i + 1, len(chunks))
    index = LexicalIndex.build([c.id for c in chunks], documents, settings.bm25_k1, settings.bm25_b)
    directory = tx.path(LEXICAL_DIR)
    index.save(directory)
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")


def update_indexes(tx: Transaction, previous: Snapshot | None, chunks: Sequence[Chunk], embedder: Embedder,
                   settings: RetrievalSettings, progress: Progress | None = None) -> dict:
    """Write `vectors/`, `faiss.index` and `lexical/` for `chunks` into the transaction's generation.

    Args:
        tx: the generation being written.
        previous: the current generation (its caches are reused), or None for a first build / rebuild.
        chunks: every chunk of the new generation, in reading order.
        embedder: embeds new chunks' `context_text()` with `encode_documents`.
        settings: retrieval settings (index kind threshold, HNSW and BM25 parameters).
        progress: called as progress(stage, done, total) with stages "embed", "tokenize".

    Returns:
        {"embedded": new vectors computed, "reused": vectors taken from the cache, "removed": vectors dropped}.
    """
    chunks = list({c.id: c for c in chunks}.values())  # one row per id, first occurrence wins
    old = _previous_cache(previous, embedder)
    cache, added, removed = _new_cache(old, chunks, embedder, progress)
    if old is not None and not added and old.ids == cache.ids:
        tx.carry(VECTORS_DIR)
    else:
        cache.write(tx)
    _vector_index(tx, previous, cache, old is not None, added, removed, settings)
    _lexical_index(tx, previous, chunks, settings, progress)
    stats = {"embedded": len(added), "reused": len(chunks) - len(added), "removed": len(removed)}
    log.info("Retrieval indexes: %s", stats)
    return stats



def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cached_encoder(tx: Transaction, embedder: Embedder) -> Callable[[Sequence[str]], np.ndarray]:
    """`embedder.encode_documents` remembering its vectors by text across generations (`TEXT_VECTORS`).

    Texts the previous generation embedded with the same embedder are not embedded again; what a call embeds
    or reuses is written to the new generation (one file, each call replacing it: the graph build calls once).
    For the concept descriptions of `related` edges, which the graph re-embeds on every ingest (about 1 s
    per 300 concepts with USE), though an edit to one note changes only a few.
    """
    known: dict[str, np.ndarray] = {}
    previous = tx.previous_snapshot()
    if previous is not None and previous.has(TEXT_VECTORS):
        try:
            with np.load(previous.path(TEXT_VECTORS), allow_pickle=False) as saved:
                if str(saved["embedder"]) == embedder.name and saved["vectors"].shape[1:] == (embedder.dim,):
                    known = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
        except (OSError, ValueError, KeyError, WorkspaceError) as exc:  # a damaged cache costs an embedding
            log.info("Text vector cache of the previous generation not reused: %s", exc)

    def encode(texts: Sequence[str]) -> np.ndarray:
        keys = [_text_key(t) for t in texts]
        # Repeats are embedded as asked (a first ingest makes exactly the call an uncached encoder would).
        missing = [i for i, k in enumerate(keys) if k not in known]
        if missing:
            fresh = np.asarray(embedder.encode_documents([texts[i] for i in missing]), dtype=np.float32)
            for i, vector in zip(missing, fresh, strict=True):
                known.setdefault(keys[i], vector)
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        vectors = np.stack([known[k] for k in keys]).astype(np.float32, copy=False)
        used = list(dict.fromkeys(keys))
        np.savez(tx.path(TEXT_VECTORS), keys=np.array(used), vectors=np.stack([known[k] for k in used]),
                 embedder=np.array(embedder.name))
        return vectors

    return encode

"""FAISS vector index over normalized embeddings: exact inner product ("flat") or HNSW, keyed by chunk id.

Both backends wrap the FAISS index in an `IndexIDMap2`, whose int64 ids are a stable hash of the chunk id
(`faiss_id`), so the index file needs no side table: a loader that knows the chunk ids maps results back.
Removal: the flat backend removes in place; HNSW graphs cannot drop nodes, so the HNSW backend rebuilds its
graph from the vectors it keeps (its flat storage, i.e. the same vectors as the workspace's vector cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from studygraph.errors import WorkspaceError

log = logging.getLogger(__name__)

IndexKind = Literal["flat", "hnsw"]
INDEX_KINDS: tuple[IndexKind, ...] = ("flat", "hnsw")
SMALL_BATCH = 16  # up to this many queries, search on one thread


def _faiss():  # noqa: ANN202 - the faiss module, imported on first use (heavy)
    import faiss

    return faiss


@contextlib.contextmanager
def single_threaded(enabled: bool = True) -> Iterator[None]:
    """Run FAISS on one OpenMP thread: for a handful of queries, waking a thread team costs far more than it
    saves (a 10k exact search takes ~0.8 ms on one thread, ~20 ms with a team on a busy two-core machine)."""
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    if enabled and before > 1:
        faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        if enabled and before > 1:
            faiss.omp_set_num_threads(before)


def faiss_id(chunk_id: str) -> int:
    """A stable non-negative int64 for a chunk id (60 bits of its SHA-256; collisions are checked on add)."""
    return int(hashlib.sha256(chunk_id.encode("utf-8")).hexdigest()[:15], 16)


def choose_kind(count: int, exact_index_max: int) -> IndexKind:
    """Exact search while the workspace is small enough, HNSW beyond."""
    return "flat" if count <= exact_index_max else "hnsw"


class VectorIndex:
    """Chunk-id-keyed vector search over L2-normalized float32 vectors (inner product = cosine).

    Args:
        kind: "flat" (exact) or "hnsw" (approximate).
        dim: vector dimension.
        hnsw_m: HNSW graph degree.
        ef_search: HNSW search breadth (ignored by "flat").
    """

    def __init__(self, kind: IndexKind, dim: int, hnsw_m: int = 32, ef_search: int = 128):
        if kind not in INDEX_KINDS:
            raise ValueError(f"Unknown vector index kind {kind!r}; expected one of {INDEX_KINDS}.")
        self.kind: IndexKind = kind
        self.dim = dim
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        self.index = self._new_index()
        self._ids: dict[int, str] = {}  # faiss int64 id -> chunk id
        self._int_of: dict[str, int] = {}  # and back, so membership needs no hashing

    def _new_index(self):  # noqa: ANN202 - a faiss.IndexIDMap2
        faiss = _faiss()
        if self.kind == "flat":
            inner = faiss.IndexFlatIP(self.dim)
        else:
            inner = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = max(40, 2 * self.hnsw_m)
            inner.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(inner)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def chunk_ids(self) -> list[str]:
        """The chunk ids held, in insertion order."""
        return list(self._ids.values())

    def __contains__(self, chunk_id: str) -> bool:
        return chunk_id in self._int_of

    def add(self, chunk_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors under chunk ids (ids already present are replaced).

        Raises:
            ValueError: shapes disagree, or two chunk ids hash to the same int64 (practically never).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(chunk_ids) != len(vectors):
            raise ValueError(f"{len(chunk_ids)} ids for {len(vectors)} vectors.")
        if not len(chunk_ids):
            return
        present = [c for c in chunk_ids if c in self]
        if present:
            self.remove(present)
        int_ids = np.fromiter((faiss_id(c) for c in chunk_ids), dtype=np.int64, count=len(chunk_ids))
        for int_id, chunk_id in zip(int_ids.tolist(), chunk_ids, strict=True):
            if self._ids.setdefault(int_id, chunk_id) != chunk_id:
                raise ValueError(f"Chunk ids {chunk_id!r} and {self._ids[int_id]!r} collide in the vector index.")
            self._int_of[chunk_id] = int_id
        self.index.add_with_ids(vectors, int_ids)

    def remove(self, chunk_ids: Iterable[str]) -> int:
        """Remove chunk ids (unknown ids are ignored); returns how many were removed."""
        int_ids = list(dict.fromkeys(self._int_of[c] for c in chunk_ids if c in self._int_of))
        if not int_ids:
            return 0
        if self.kind == "flat":
            removed = int(self.index.remove_ids(np.asarray(int_ids, dtype=np.int64)))
        else:
            removed = self._rebuild_without(set(int_ids))
        for i in int_ids:
            self._int_of.pop(self._ids.pop(i), None)
        return removed

    def _rebuild_without(self, drop: set[int]) -> int:
        # HNSW cannot unlink nodes: rebuild the graph from the vectors that stay (its own flat storage).
        keep = [i for i in self._ids if i not in drop]
        vectors = self.vectors_by_int_ids(keep)
        self.index = self._new_index()
        if keep:
            self.index.add_with_ids(vectors, np.asarray(keep, dtype=np.int64))
        log.info("Rebuilt HNSW index without %d vectors (%d kept).", len(drop), len(keep))
        return len(drop)

    def vectors_by_int_ids(self, int_ids: Sequence[int]) -> np.ndarray:
        if not len(int_ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(int_ids, dtype=np.int64)).astype(np.float32, copy=False)

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of chunk ids (rows in the same order).

        Raises:
            KeyError: a chunk id is not in the index.
        """
        missing = [c for c in chunk_ids if c not in self._int_of]
        if missing:
            raise KeyError(f"Not in the vector index: {missing[:3]}")
        return self.vectors_by_int_ids([self._int_of[c] for c in chunk_ids])

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        """Top-k (chunk id, cosine) per query row; an empty index gives empty lists.

        Args:
            queries: one vector (dim,) or a matrix (n, dim) of L2-normalized query vectors.
            k: results wanted per query.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if len(self) == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        with single_threaded(len(queries) <= SMALL_BATCH):
            scores, ids = self.index.search(queries, min(k, len(self)))
        return [
            [(self._ids[i], float(s)) for i, s in zip(row_ids.tolist(), row_scores.tolist(), strict=True) if i >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    # ------------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        """Write the FAISS index to `path` (a plain FAISS file; serialized in memory, so any path works)."""
        data = _faiss().serialize_index(self.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.tobytes())

    @classmethod
    def load(cls, path: Path, chunk_ids: Iterable[str], ef_search: int = 128) -> VectorIndex:
        """Read an index written by `save`; `chunk_ids` (a superset is fine) map its int64 ids back.

        Raises:
            WorkspaceError: unreadable file, unknown index type, or ids no known chunk has.
        """
        faiss = _faiss()
        try:
            index = faiss.deserialize_index(np.frombuffer(path.read_bytes(), dtype=np.uint8))
        except (OSError, RuntimeError) as exc:
            raise WorkspaceError(f"Cannot read the vector index {path}: {exc}".strip()) from None
        inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else None
        if isinstance(inner, faiss.IndexFlatIP):
            kind: IndexKind = "flat"
        elif isinstance(inner, faiss.IndexHNSWFlat):
            kind = "hnsw"
        else:
            raise WorkspaceError(f"{path} holds an unexpected FAISS index type ({type(index).__name__}).")
        obj = cls.__new__(cls)
        obj.kind, obj.dim, obj.ef_search, obj.index = kind, int(index.d), ef_search, index
        obj.hnsw_m = int(inner.hnsw.nb_neighbors(1)) if kind == "hnsw" else 32
        if kind == "hnsw":
            inner.hnsw.efSearch = ef_search
        obj._ids = obj._map_ids(path, chunk_ids)
        obj._int_of = {c: i for i, c in obj._ids.items()}
        return obj

    def _map_ids(self, path: Path, chunk_ids: Iterable[str]) -> dict[int, str]:
        known = {faiss_id(c): c for c in chunk_ids}
        stored = _faiss().vector_to_array(self.index.id_map).tolist()
        unknown = [i for i in stored if i not in known]
        if unknown:
            raise WorkspaceError(f"{path} holds {len(unknown)} vectors of chunks the workspace does not have.")
        return {i: known[i] for i in stored}

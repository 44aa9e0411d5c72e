"""Hybrid search: dense (FAISS) and lexical (BM25) rankings, a concept ranking, fused by weighted RRF."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

import numpy as np

from retrieval.indexing import FAISS_INDEX, LEXICAL_DIR
from retrieval.lexical import LexicalIndex
from retrieval.tokenize import tokenize
from retrieval.vector_index import VectorIndex
from studygraph.errors import InputError, StudygraphError, WorkspaceError
from studygraph.records import Chunk, Hit
from studygraph.text import cjk_share
from studygraph.workspace import rebuild_hint

if TYPE_CHECKING:
    from retrieval.embedders import Embedder
    from studygraph.settings import RetrievalSettings
    from studygraph.workspace import Snapshot

log = logging.getLogger(__name__)

ChunkLookup = Callable[[str], list[str]]
T = TypeVar("T")
Loader = Callable[[], T]
QUERY_CACHE_SIZE = 256  # query vectors kept (512 float32 each: 0.5 MB)
Ranking = list[tuple[str, float]]


@dataclass(frozen=True)
class SearchParams:
    """Per-call search parameters.

    Attributes:
        k: passages returned.
        mode: "hybrid" (fused), "dense" (embeddings only) or "lexical" (BM25 only).
    """

    k: int = 5
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError(f"k must be at least 1 (got {self.k}).")
        if self.mode not in ("hybrid", "dense", "lexical"):
            raise InputError(f"Unknown search mode {self.mode!r}: use hybrid, dense or lexical.")


def fuse_rrf(rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: score(d) = sum_i weights[i] / (k + rank_i(d)), ranks from 1.

    Args:
        rankings: ranked id lists, best first (duplicates within a list count once, at their best rank).
        weights: one weight per ranking.
        k: the RRF constant; larger values flatten the difference between top ranks.

    Returns:
        (id, fused score), best first; ties keep the order of first appearance.
    """
    if len(rankings) != len(weights):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights.")
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if weight <= 0:
            continue
        for rank, item in enumerate(dict.fromkeys(ranking), start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def order_by(ids: Sequence[str], *rankings: Sequence[str]) -> list[str]:
    """`ids` (deduplicated) reordered by their best position in `rankings`; ids in none keep their order, last."""
    best: dict[str, int] = {}
    for ranking in rankings:
        for pos, item in enumerate(ranking):
            if pos < best.get(item, pos + 1):
                best[item] = pos
    far = max(best.values(), default=0) + 1
    keyed = [(best.get(cid, far + i), cid) for i, cid in enumerate(dict.fromkeys(ids))]
    return [cid for _, cid in sorted(keyed, key=lambda pair: pair[0])]


_NON_CONTENT_LINE = re.compile(r"^\s*(?:#{1,6}\s.*|[-*_=\s]*)$")


def has_content(chunk: Chunk) -> bool:
    """False for a chunk holding only headings, rules and blank lines (nothing to read or cite)."""
    return any(ch.isalnum() for line in chunk.text.splitlines() if not _NON_CONTENT_LINE.match(line) for ch in line)


def _sliding(floor: float, query: str) -> float:
    """A factor that is `floor` for an all-Chinese query and 1 for a query with no Chinese, linear in between."""
    return floor + (1.0 - floor) * (1.0 - cjk_share(query))


def _hit(rank: int, chunk: Chunk, score: float, scores: dict[str, float]) -> Hit:
    # Every field is already a validated record or a float: skip re-validation on the query path.
    return Hit.model_construct(rank=rank, chunk=chunk, score=score, scores=scores)


class HybridSearcher:
    """Finds passages for queries over one workspace generation.

    Args:
        chunks: chunk id -> Chunk of the generation.
        vectors: the FAISS index over chunk embeddings, or a function loading it on first use.
        lexical: the BM25 index over chunk tokens, or a function loading it on first use.
        embedder: encodes queries (must be the embedder that built the vectors).
        settings: fusion weights and candidate counts.
        concept_chunks: query -> ids of chunks defining the concepts it names (the concept boost), or None.
        expand_chunks: query -> ids of chunks of neighbouring concepts (used when settings.graph_expansion).
        query_terms: query -> other names (aliases, the other language) of the concepts it names, added to
            the BM25 query with settings.alias_weight.
    """

    def __init__(self, chunks: Mapping[str, Chunk], vectors: VectorIndex | Loader[VectorIndex],
                 lexical: LexicalIndex | Loader[LexicalIndex], embedder: Embedder | None,
                 settings: RetrievalSettings, concept_chunks: ChunkLookup | None = None,
                 expand_chunks: ChunkLookup | None = None, query_terms: ChunkLookup | None = None):
        self.chunks = chunks
        self._indexes: dict[str, object] = {"vectors": vectors, "lexical": lexical}
        self._index_lock = threading.Lock()
        self.embedder = embedder
        self.settings = settings
        self.concept_chunks = concept_chunks
        self.expand_chunks = expand_chunks
        self.query_terms = query_terms
        # Heading-only chunks ("## 六、预训练模型") hold nothing to read: they stay indexed but are never returned.
        self._empty = {cid for cid, chunk in chunks.items() if not has_content(chunk)}
        self._overfetch = min(len(self._empty), 64)
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def _index(self, name: str):  # noqa: ANN202 - VectorIndex or LexicalIndex
        """An index, loaded on first use (a lexical search never reads the vectors, a dense one never BM25)."""
        index = self._indexes[name]
        if isinstance(index, (VectorIndex, LexicalIndex)):
            return index
        with self._index_lock:
            if not isinstance(self._indexes[name], (VectorIndex, LexicalIndex)):
                self._indexes[name] = self._indexes[name]()  # type: ignore[operator]
        return self._indexes[name]

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index over chunk embeddings."""
        return self._index("vectors")

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index over chunk tokens."""
        return self._index("lexical")

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, chunks: Mapping[str, Chunk], embedder: Embedder | None,
                      settings: RetrievalSettings, concept_chunks: ChunkLookup | None = None,
                      expand_chunks: ChunkLookup | None = None, query_terms: ChunkLookup | None = None
                      ) -> HybridSearcher:
        """Open the indexes of a workspace generation (checksums verified by the snapshot); each is read on
        first use, so a lexical search never loads FAISS and a dense one never BM25.

        Raises:
            WorkspaceError: a component is missing (now) or corrupted (when first used); the message says how
                to rebuild.
        """
        for component in (FAISS_INDEX, LEXICAL_DIR):  # a missing component is reported now, not at first use
            if not snapshot.path(component, verify=False).exists():
                raise WorkspaceError(f"Workspace {snapshot.root} has lost '{component}'; {rebuild_hint(snapshot.root)}.")

        def loader(load: Callable[[], T]) -> Loader[T]:
            def load_or_explain() -> T:
                try:
                    return load()
                except WorkspaceError as exc:
                    raise WorkspaceError(f"{exc}; {rebuild_hint(snapshot.root)}.") from None
            return load_or_explain

        # Checksums are verified when a component is read, like the rest of its loading.
        vectors = loader(lambda: VectorIndex.load(snapshot.path(FAISS_INDEX), chunks, settings.hnsw_ef_search))
        lexical = loader(lambda: LexicalIndex.load(snapshot.path(LEXICAL_DIR)))
        return cls(chunks, vectors, lexical, embedder, settings, concept_chunks, expand_chunks, query_terms)

    # ------------------------------------------------------------------ rankings

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Query vectors, one row per query; a query embedded before (by a search, the relevance check, a
        concept lookup) is taken from a small cache, so answering a question embeds it once.

        Raises:
            InputError: no embedder (a lexical-only searcher).
        """
        if self.embedder is None:
            raise InputError("Dense and hybrid search need an embedder; use --mode lexical without one.")
        with self._cache_lock:
            found = {q: self._query_vectors[q] for q in queries if q in self._query_vectors}
        missing = [q for q in dict.fromkeys(queries) if q not in found]
        if missing:  # embedded outside the lock: concurrent searches do not wait on each other's queries
            found.update(zip(missing, self.embedder.encode_queries(missing), strict=True))
        with self._cache_lock:
            for query in dict.fromkeys(queries):
                self._query_vectors[query] = found[query]
                self._query_vectors.move_to_end(query)
            while len(self._query_vectors) > QUERY_CACHE_SIZE:
                self._query_vectors.popitem(last=False)
        if not queries:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([found[q] for q in queries])

    def encode_query(self, query: str) -> np.ndarray:
        """The (cached) vector of one query; see `encode_queries`."""
        return self.encode_queries([query])[0]

    def _returnable(self, ranking: Ranking, n: int) -> Ranking:
        return [(cid, s) for cid, s in ranking if cid in self.chunks and cid not in self._empty][:n]

    def dense_ranking(self, query_vector: np.ndarray, n: int) -> Ranking:
        """Top-n (chunk id, cosine) from the vector index."""
        return self._returnable(self.vectors.search(query_vector, n + self._overfetch)[0], n)

    def lexical_ranking(self, query: str, n: int, tokens: Sequence[str] | None = None) -> Ranking:
        """Top-n (chunk id, BM25 score) for the query's tokens."""
        found = self.lexical.search(tokenize(query) if tokens is None else tokens, n + self._overfetch)
        return self._returnable(found, n)

    def _cosines(self, query_vector: np.ndarray, ids: Sequence[str], known: dict[str, float]) -> dict[str, float]:
        """Cosine of the query with each id's stored vector (reusing scores the dense ranking already has)."""
        missing = [cid for cid in ids if cid not in known and cid in self.vectors]
        out = {cid: known[cid] for cid in ids if cid in known}
        if missing:
            sims = self.vectors.vectors(missing) @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
            out.update(zip(missing, (float(s) for s in sims), strict=True))
        return out

    # ------------------------------------------------------------------ search

    def search(self, query: str, params: SearchParams | None = None) -> list[Hit]:
        """The best passages for a query, ranked from 1.

        Raises:
            InputError: an empty query.
        """
        return self.search_many([query], params)[0]

    def search_many(self, queries: Sequence[str], params: SearchParams | None = None) -> list[list[Hit]]:
        """`search` for many queries, embedding them in one batch."""
        params = params or SearchParams(k=self.settings.k, mode=self.settings.mode)
        for query in queries:
            if not query or not query.strip():
                raise InputError("The query is empty: type a question or a few keywords.")
        if params.mode == "lexical":
            return [self._lexical_hits(q, params.k) for q in queries]
        if params.mode == "dense":
            return [self._dense_hits(vec, params.k) for vec in self.encode_queries(queries)]
        matrix = self.encode_queries(queries)
        return [self._hybrid_hits(q, vec, params.k) for q, vec in zip(queries, matrix, strict=True)]

    def _lexical_hits(self, query: str, k: int) -> list[Hit]:
        ranking = self.lexical_ranking(query, k)
        return [_hit(rank=r, chunk=self.chunks[cid], score=s, scores={"lexical": s})
                for r, (cid, s) in enumerate(ranking, start=1)]

    def _dense_hits(self, query_vector: np.ndarray, k: int) -> list[Hit]:
        ranking = self.dense_ranking(query_vector, k)
        return [_hit(rank=r, chunk=self.chunks[cid], score=s, scores={"dense": s})
                for r, (cid, s) in enumerate(ranking, start=1)]

    def _hybrid_hits(self, query: str, query_vector: np.ndarray, k: int) -> list[Hit]:
        n = max(self.settings.candidates, k)
        tokens = tokenize(query)
        dense = self.dense_ranking(query_vector, n)
        lexical = self._returnable(self.lexical.search(tokens, n + self._overfetch, *self._alias_tokens(query)), n)
        fused, concept = self._fuse(query, [c for c, _ in dense], [c for c, _ in lexical], k)
        cosines = self._cosines(query_vector, [cid for cid, _ in fused], dict(dense))
        bm25 = dict(lexical)
        hits = []
        for rank, (cid, score) in enumerate(fused, start=1):
            scores = {"rrf": score, "dense": cosines.get(cid, 0.0), "lexical": bm25.get(cid, 0.0)}
            if concept:
                scores["concept"] = 1.0 if cid in concept else 0.0
            hits.append(_hit(rank=rank, chunk=self.chunks[cid], score=score, scores=scores))
        return hits

    def _alias_tokens(self, query: str) -> tuple[list[str], float]:
        """Tokens of the other names (aliases, the other language) of the concepts a query names, and their
        BM25 weight: "长短期记忆网络" also looks for "LSTM", "collaborative filtering" for "协同过滤"."""
        weight = self.settings.alias_weight * self.alias_factor(query)
        if weight <= 0:
            return [], 0.0
        return tokenize(" ".join(self._lookup("query_terms", query))), weight

    def _fuse(self, query: str, dense_ids: list[str], lexical_ids: list[str],
              k: int) -> tuple[list[tuple[str, float]], set[str]]:
        """The fused top k, and the concept chunks that were boosted.

        The concept ranking rescues: when the words of the query already put a passage defining one of the
        named concepts in the top k, the graph adds no evidence (the same names matched), so it is not counted
        twice; otherwise the defining passages join the fusion as a third ranking.
        """
        s = self.settings
        rankings = [dense_ids, lexical_ids]
        weights = [s.dense_weight * self.dense_factor(query), s.lexical_weight]
        if s.graph_expansion:
            rankings.append(order_by(self._lookup("expand_chunks", query), lexical_ids, dense_ids))
            weights.append(s.expansion_weight)
        fused = fuse_rrf(rankings, weights, s.rrf_k)[:k]
        concept_ids = self._lookup("concept_chunks", query) if s.concept_boost > 0 else []
        if not concept_ids or set(concept_ids) & {cid for cid, _ in fused}:
            return fused, set()
        rankings.append(order_by(concept_ids, lexical_ids, dense_ids)[:s.concept_passages])
        weights.append(s.concept_boost)
        return fuse_rrf(rankings, weights, s.rrf_k)[:k], set(concept_ids)

    def dense_factor(self, query: str) -> float:
        """How much of dense_weight a query gets: USE reads Chinese, but on Chinese questions its ranking is
        still weaker than BM25's over jieba words, so the weight slides from cjk_dense_weight (all Chinese) to 1
        (no Chinese)."""
        return _sliding(self.settings.cjk_dense_weight, query)

    def alias_factor(self, query: str) -> float:
        """How much of alias_weight a query gets: a Chinese question's own words (jieba words and character
        bigrams) already match most spellings its concepts take in Chinese notes, and their other names add noise
        (an ambiguous word's other sense, a neighbouring concept) about as often as matches; an English question
        needs them most (the bridge to Chinese notes). Slides from cjk_alias_weight (all Chinese) to 1 (no
        Chinese)."""
        return _sliding(self.settings.cjk_alias_weight, query)

    def _lookup(self, name: str, query: str) -> list[str]:
        """What a concept-graph callback gives (chunk ids: only returnable ones); a workspace without a usable
        graph turns that callback off, once, with a warning."""
        lookup: ChunkLookup | None = getattr(self, name)
        if lookup is None:
            return []
        try:
            found = list(lookup(query))
        except StudygraphError as exc:
            log.warning("Searching without %s (no usable concept graph: %s).", name.replace("_", " "), exc)
            setattr(self, name, None)
            return []
        if name == "query_terms":
            return found
        return [cid for cid in found if cid in self.chunks and cid not in self._empty]

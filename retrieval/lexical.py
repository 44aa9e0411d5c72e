"""BM25 lexical index (bm25s) over pre-tokenized chunks, saved as .npy + JSON and loaded without pickle."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from studygraph.errors import WorkspaceError

log = logging.getLogger(__name__)

IDS_FILE = "ids.json"


def _bm25s():  # noqa: ANN202 - the bm25s module, imported on first use
    import bm25s

    # bm25s sets its logger to DEBUG on import, which would print index-building chatter through any handler.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """BM25 over chunk token lists; `search` takes query tokens from the same tokenizer.

    Args:
        retriever: a built `bm25s.BM25`, or None for an empty index.
        chunk_ids: the chunk id of each indexed document, in index order.
    """

    def __init__(self, retriever: object | None, chunk_ids: Sequence[str]):
        self.retriever = retriever
        self.chunk_ids = list(chunk_ids)
        self._position_map: dict[str, int] | None = None
        self._sorted_postings: bool | None = None

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(
        cls, chunk_ids: Sequence[str], documents: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75
    ) -> LexicalIndex:
        """Index token lists (one per chunk).

        Args:
            chunk_ids: chunk id of each document.
            documents: the tokens of each document (from `retrieval.tokenize.tokenize`).
            k1: BM25 term-frequency saturation.
            b: BM25 length normalization.
        """
        if len(chunk_ids) != len(documents):
            raise ValueError(f"{len(chunk_ids)} ids for {len(documents)} documents.")
        if not chunk_ids:
            return cls(None, [])
        retriever = _bm25s().BM25(k1=k1, b=b)
        # An empty document would be dropped from bm25s' vocabulary pass; the empty token keeps it countable.
        retriever.index([list(d) if d else [""] for d in documents], show_progress=False)
        return cls(retriever, chunk_ids)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the (deduplicated) query tokens; zeros when none is known."""
        if self.retriever is None:
            return np.zeros(0, dtype=np.float32)
        known = self.retriever.get_tokens_ids([t for t in dict.fromkeys(query_tokens) if t])
        if not known:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        return self.retriever.get_scores_from_ids(known)

    def search(self, query_tokens: Sequence[str], k: int, extra: Sequence[str] = (),
               extra_weight: float = 0.0) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score), best first; documents sharing no token with the query are left out.

        Args:
            query_tokens: the query's tokens.
            k: results wanted.
            extra: more tokens (e.g. other names of the concepts the query names), scored apart...
            extra_weight: ...and added with this weight.
        """
        scores = self.scores(query_tokens)
        if not len(scores) or k <= 0:
            return []
        known = set(query_tokens)
        extra = [t for t in extra if t not in known]
        if extra and extra_weight > 0:
            scores = scores + extra_weight * self.scores(extra)
        return top_k(scores, k, self.chunk_ids)

    def coverage(self, query_tokens: Sequence[str], chunk_id: str, unknown: bool = True) -> float:
        """IDF-weighted share of the query's distinct tokens that a chunk contains (0..1).

        Args:
            query_tokens: the query's tokens.
            chunk_id: the chunk to check.
            unknown: count tokens the index has never seen (with the highest IDF), so that a query about
                something absent from the notes gets a low coverage even when its common words match.
        """
        position = self._positions().get(chunk_id)
        if self.retriever is None or position is None:
            return 0.0
        indptr, indices = self.retriever.scores["indptr"], self.retriever.scores["indices"]
        n = self.retriever.scores["num_docs"]
        total = found = 0.0
        for token in dict.fromkeys(t for t in query_tokens if t):
            tid = self.retriever.vocab_dict.get(token)
            if tid is None and not unknown:
                continue
            postings = indices[indptr[tid]:indptr[tid + 1]] if tid is not None else indices[:0]
            idf = float(np.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5)))
            total += idf
            if len(postings) and self._posted(postings, position):
                found += idf
        return found / total if total else 0.0

    def _posted(self, postings: np.ndarray, position: int) -> bool:
        if self._sorted_postings is None:  # bm25s writes each token's documents in order; checked once
            indices, starts = self.retriever.scores["indices"], self.retriever.scores["indptr"][1:-1]  # type: ignore
            steps = np.diff(indices) >= 0
            steps[starts[(starts > 0) & (starts < len(indices))] - 1] = True  # a new token may start lower
            self._sorted_postings = bool(steps.all())
        if self._sorted_postings:
            at = int(np.searchsorted(postings, position))
            return at < len(postings) and int(postings[at]) == position
        return bool(np.any(postings == position))

    def _positions(self) -> dict[str, int]:
        if self._position_map is None:
            self._position_map = {cid: i for i, cid in enumerate(self.chunk_ids)}
        return self._position_map

    # ------------------------------------------------------------------ persistence

    def save(self, directory: Path) -> None:
        """Write bm25s' arrays (.npy, allow_pickle=False) and JSON files, plus `ids.json`, into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(directory), allow_pickle=False, show_progress=False)
        (directory / IDS_FILE).write_text(json.dumps(self.chunk_ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by `save`, with pickle disallowed.

        Raises:
            WorkspaceError: missing or unreadable files.
        """
        try:
            chunk_ids = json.loads((directory / IDS_FILE).read_text(encoding="utf-8"))
            if not chunk_ids:
                return cls(None, [])
            retriever = _bm25s().BM25.load(
                str(directory), load_corpus=False, mmap=False, allow_pickle=False, show_progress=False
            )
        except (OSError, ValueError, KeyError) as exc:
            raise WorkspaceError(f"Cannot read the lexical index in {directory}: {exc}") from None
        if retriever.scores["num_docs"] != len(chunk_ids):
            raise WorkspaceError(f"The lexical index in {directory} does not match its {IDS_FILE}.")
        return cls(retriever, chunk_ids)


def top_k(scores: np.ndarray, k: int, chunk_ids: Sequence[str]) -> list[tuple[str, float]]:
    """The k best positive scores as (chunk id, score), best first (ties by index order)."""
    k = min(k, len(scores))
    if k < len(scores):
        candidates = np.argpartition(-scores, k - 1)[:k]
    else:
        candidates = np.arange(len(scores))
    order = candidates[np.lexsort((candidates, -scores[candidates]))]
    return [(chunk_ids[i], float(scores[i])) for i in order.tolist() if scores[i] > 0]


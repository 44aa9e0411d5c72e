from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from retrieval.lexical import LexicalIndex, top_k
from retrieval.tokenize import tokenize
from retrieval_corpus import chunk_under, corpus_chunks
from studygraph.errors import WorkspaceError


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    chunks = corpus_chunks()
    return LexicalIndex.build([c.id for c in chunks], [tokenize(c.context_text()) for c in chunks])


def best(index: LexicalIndex, query: str) -> str:
    return index.search(tokenize(query), 1)[0][0]


def test_chinese_question_finds_the_passage_sharing_its_words(index: LexicalIndex) -> None:
    assert best(index, "怎么用少量参数微调大模型") == chunk_under(corpus_chunks(), "LLaMA").id


def test_code_identifier_finds_the_code(index: LexicalIndex) -> None:
    assert best(index, "np.linalg.eig") == chunk_under(corpus_chunks(), "NumPy").id
    assert best(index, "KMeans n_clusters") == chunk_under(corpus_chunks(), "K-means").id


def test_results_are_sorted_and_only_matching_passages(index: LexicalIndex) -> None:
    hits = index.search(tokenize("Adam 学习率"), 10)
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert hits[0][0] == chunk_under(corpus_chunks(), "训练技巧").id
    assert len(hits) < len(index)


def test_unknown_or_empty_query_finds_nothing(index: LexicalIndex) -> None:
    assert index.search(tokenize("quantum chromodynamics"), 5) == []
    assert index.search([], 5) == []


def test_empty_index() -> None:
    empty = LexicalIndex.build([], [])
    assert len(empty) == 0 and empty.search(["lora"], 3) == []


def test_coverage_weighs_rare_words_more(index: LexicalIndex) -> None:
    llama = chunk_under(corpus_chunks(), "LLaMA").id
    assert index.coverage(["lora", "微调"], llama) == pytest.approx(1.0)
    # A word the notes never use weighs more than any word they do: the passage covers under half.
    assert 0.2 < index.coverage(["lora", "neverseen"], llama) < 0.5
    assert index.coverage(["lora"], chunk_under(corpus_chunks(), "GAN").id) == 0.0


def test_coverage_is_the_same_with_sorted_or_scanned_postings(index: LexicalIndex) -> None:
    queries = [tokenize(q) for q in ("怎么用少量参数微调大模型", "np.linalg.eig", "Batch normalization training")]
    fast = [[index.coverage(q, cid) for cid in index.chunk_ids] for q in queries]
    assert index._sorted_postings is True  # bm25s writes postings in document order
    index._sorted_postings = False
    try:
        assert [[index.coverage(q, cid) for cid in index.chunk_ids] for q in queries] == fast
    finally:
        index._sorted_postings = None


def test_saved_without_pickle_and_loaded_with_pickle_disallowed(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert "ids.json" in files and not any(f.endswith((".pkl", ".pickle")) for f in files)
    for npy in tmp_path.glob("*.npy"):
        array = np.load(npy, allow_pickle=False)
        assert array.dtype != object
        assert not zipfile.is_zipfile(npy)
    for js in tmp_path.glob("*.json"):
        json.loads(js.read_text(encoding="utf-8"))
    loaded = LexicalIndex.load(tmp_path)
    for query in ("怎么用少量参数微调大模型", "np.linalg.eig", "Batch normalization"):
        assert loaded.search(tokenize(query), 3) == index.search(tokenize(query), 3)


def test_save_and_load_empty_index(tmp_path: Path) -> None:
    LexicalIndex.build([], []).save(tmp_path)
    assert LexicalIndex.load(tmp_path).search(["x"], 1) == []


def test_load_refuses_missing_or_mismatched_files(index: LexicalIndex, tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError):
        LexicalIndex.load(tmp_path / "nothing")
    index.save(tmp_path)
    (tmp_path / "ids.json").write_text(json.dumps(["only-one"]), encoding="utf-8")
    with pytest.raises(WorkspaceError, match="does not match"):
        LexicalIndex.load(tmp_path)


def test_top_k_orders_by_score_then_position() -> None:
    scores = np.array([0.0, 2.0, 5.0, 2.0, 1.0], dtype=np.float32)
    assert top_k(scores, 3, list("abcde")) == [("c", 5.0), ("b", 2.0), ("d", 2.0)]
    assert top_k(scores, 10, list("abcde"))[-1] == ("e", 1.0)  # zero scores are left out

"""Contract suite for the vector index, run for every backend (flat exact search, HNSW)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.vector_index import INDEX_KINDS, VectorIndex, choose_kind
from studygraph.errors import WorkspaceError

DIM = 16


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=INDEX_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def filled(kind: str) -> tuple[VectorIndex, list[str], np.ndarray]:
    vectors = unit_vectors(60)
    ids = [f"chunk-{i}" for i in range(60)]
    index = VectorIndex(kind, DIM, hnsw_m=8, ef_search=64)
    index.add(ids, vectors)
    return index, ids, vectors


def test_empty_index_searches_to_nothing(kind: str) -> None:
    index = VectorIndex(kind, DIM)
    assert len(index) == 0
    assert index.search(unit_vectors(1)[0], 5) == [[]]
    assert index.search(unit_vectors(3), 5) == [[], [], []]


def test_search_finds_each_vector_first_with_its_cosine(filled) -> None:
    index, ids, vectors = filled
    results = index.search(vectors[:10], 3)
    for i, row in enumerate(results):
        assert row[0][0] == ids[i]
        assert row[0][1] == pytest.approx(1.0, abs=1e-5)
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
        for cid, score in row:  # scores are the cosines with the stored vectors
            assert score == pytest.approx(float(vectors[ids.index(cid)] @ vectors[i]), abs=1e-5)


def test_k_larger_than_the_index_returns_everything_once(kind: str) -> None:
    index = VectorIndex(kind, DIM)
    index.add(["a", "b", "c"], unit_vectors(3))
    (row,) = index.search(unit_vectors(1, seed=9), 10)
    assert sorted(cid for cid, _ in row) == ["a", "b", "c"]


def test_removed_ids_are_never_returned(filled) -> None:
    index, ids, vectors = filled
    assert index.remove(ids[:5] + ["unknown"]) == 5
    assert len(index) == 55 and ids[0] not in index
    for row in index.search(vectors[:5], 10):
        assert not {cid for cid, _ in row} & set(ids[:5])
    assert index.search(vectors[10], 1)[0][0][0] == ids[10]


def test_removing_everything_leaves_an_empty_index(filled) -> None:
    index, ids, vectors = filled
    index.remove(ids)
    assert len(index) == 0 and index.search(vectors[0], 3) == [[]]


def test_adding_an_existing_id_replaces_its_vector(filled) -> None:
    index, ids, vectors = filled
    index.add([ids[0]], vectors[1:2])
    assert len(index) == 60
    np.testing.assert_allclose(index.vectors([ids[0]])[0], vectors[1], atol=1e-6)


def test_save_and_load_round_trip(filled, tmp_path: Path) -> None:
    index, ids, vectors = filled
    index.remove(ids[:3])
    path = tmp_path / "faiss.index"
    index.save(path)
    loaded = VectorIndex.load(path, ids, ef_search=64)
    assert loaded.kind == index.kind and len(loaded) == 57 and sorted(loaded.chunk_ids) == sorted(ids[3:])
    assert loaded.search(vectors[3:8], 4) == index.search(vectors[3:8], 4)
    np.testing.assert_allclose(loaded.vectors(ids[5:7]), vectors[5:7], atol=1e-6)
    loaded.add(["new"], unit_vectors(1, seed=5))  # a loaded index keeps accepting changes
    assert loaded.search(unit_vectors(1, seed=5), 1)[0][0][0] == "new"


def test_save_and_load_empty_index(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "faiss.index"
    VectorIndex(kind, DIM).save(path)
    loaded = VectorIndex.load(path, [])
    assert loaded.kind == kind and len(loaded) == 0 and loaded.search(unit_vectors(1), 2) == [[]]


def test_load_refuses_vectors_of_unknown_chunks(filled, tmp_path: Path) -> None:
    index, ids, _ = filled
    path = tmp_path / "faiss.index"
    index.save(path)
    with pytest.raises(WorkspaceError, match="chunks the workspace does not have"):
        VectorIndex.load(path, ids[1:])


def test_load_refuses_a_file_that_is_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "faiss.index"
    path.write_bytes(b"not a faiss index at all")
    with pytest.raises(WorkspaceError, match="Cannot read the vector index"):
        VectorIndex.load(path, [])


def test_vectors_of_unknown_ids_raise(filled) -> None:
    index, _, _ = filled
    with pytest.raises(KeyError):
        index.vectors(["nope"])


def test_shapes_must_agree(kind: str) -> None:
    with pytest.raises(ValueError):
        VectorIndex(kind, DIM).add(["a", "b"], unit_vectors(3))


def test_exact_search_up_to_the_threshold_then_hnsw() -> None:
    assert choose_kind(50_000, 50_000) == "flat"
    assert choose_kind(50_001, 50_000) == "hnsw"
    assert choose_kind(0, 0) == "flat"

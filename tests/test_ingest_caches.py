"""Work an ingest or a cold query does not repeat: concept descriptions embedded once, one jieba dictionary."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from conftest import FIXTURE_NOTES, FakeEmbedder
from ingest.pipeline import ingest_paths
from kg.graph import GRAPH_FILE
from retrieval.indexing import TEXT_VECTORS
from retrieval.store import read_chunks
from studygraph.settings import Settings
from studygraph.workspace import Workspace


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode_documents(texts)


def _graph(workspace: Path) -> dict:
    return json.loads(Workspace(workspace).snapshot().path(GRAPH_FILE).read_text(encoding="utf-8"))


def test_reingest_embeds_only_changed_descriptions_and_builds_the_same_graph(tmp_path: Path):
    notes = tmp_path / "notes"
    shutil.copytree(FIXTURE_NOTES, notes)
    settings, embedder = Settings(workspace=tmp_path / "ws"), CountingEmbedder()
    ingest_paths([notes], settings, embedder)
    chunk_texts = {c.context_text() for c in read_chunks(Workspace(settings.workspace).snapshot())}
    descriptions = [t for t in embedder.embedded if t not in chunk_texts]
    assert descriptions, "the first ingest embeds the concept descriptions"
    assert Workspace(settings.workspace).snapshot().has(TEXT_VECTORS)

    target = notes / "04-english.md"
    target.write_text(target.read_text(encoding="utf-8").replace("running averages", "moving averages"),
                      encoding="utf-8")
    embedder.embedded.clear()
    ingest_paths([notes], settings, embedder)
    chunk_texts = {c.context_text() for c in read_chunks(Workspace(settings.workspace).snapshot())}
    again = [t for t in embedder.embedded if t not in chunk_texts]
    assert not set(again) & set(descriptions), "an unchanged description is not embedded again"

    fresh = Settings(workspace=tmp_path / "fresh")
    ingest_paths([notes], fresh, CountingEmbedder())
    assert _graph(settings.workspace) == _graph(fresh.workspace)


def test_the_matchers_tokenizer_copies_the_dictionary_and_leaves_the_global_one_alone():
    import jieba

    from kg.matcher import jieba_tokenizer

    private = jieba_tokenizer()
    assert private is not jieba.dt and private.FREQ is not jieba.dt.FREQ
    assert private.total >= jieba.dt.total > 0
    word = "甲乙丙丁戊己庚辛"
    private.add_word(word)
    assert word in private.lcut(f"我们{word}吧", HMM=False)
    assert word not in jieba.lcut(f"我们{word}吧", HMM=False)
    private.del_word(word)


def test_the_kept_use_tokenizer_is_the_tokenizer(tmp_path: Path, monkeypatch):
    from retrieval import use_embedder

    monkeypatch.setenv("STUDYGRAPH_CACHE", str(tmp_path))
    use_embedder.use_tokenizer.cache_clear()
    try:
        built = use_embedder.use_tokenizer()
        assert len(list(tmp_path.glob("use-tokenizer-*.marshal"))) == 1
        use_embedder.use_tokenizer.cache_clear()
        kept = use_embedder.use_tokenizer()
        assert kept is not built
        texts = ["怎么用少量参数微调大模型", "Batch normalization (BN) keeps running averages.", "  ", "ＬｏＲＡ：低秩适配"]
        assert kept.encode(texts) == built.encode(texts)
        assert kept.encode(texts, out_type=str) == built.encode(texts, out_type=str)
        (next(tmp_path.glob("use-tokenizer-*.marshal"))).write_bytes(b"\x00broken")
        use_embedder.use_tokenizer.cache_clear()
        assert use_embedder.use_tokenizer().encode(texts) == built.encode(texts), "a broken cache is rebuilt"
    finally:
        use_embedder.use_tokenizer.cache_clear()

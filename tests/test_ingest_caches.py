"""Work an ingest or a cold query does not repeat: concept descriptions embedded once (headings' not at all where
their section opens with prose: that chunk's vector stands for them), one jieba dictionary."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from conftest import FIXTURE_NOTES, FakeEmbedder
from ingest.graph.build import build_graph
from ingest.graph.concepts import extract_concepts
from ingest.graph.related import describe, description_vectors, section_chunk
from ingest.pipeline import ingest_paths, read_note_files
from kg.glossary import load_glossary
from kg.graph import GRAPH_FILE, ConceptGraph
from retrieval.indexing import TEXT_VECTORS, EmbeddingCache
from retrieval.store import read_chunks, read_sections
from studygraph.settings import GraphSettings, Settings
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


def test_a_headings_description_vector_is_its_sections_first_chunk_as_indexed_where_that_is_prose(tmp_path: Path):
    settings, embedder = Settings(workspace=tmp_path / "ws"), CountingEmbedder()
    ingest_paths([FIXTURE_NOTES], settings, embedder)
    snapshot = Workspace(settings.workspace).snapshot()
    sections, chunks = read_sections(snapshot), read_chunks(snapshot)
    cache = EmbeddingCache.read(snapshot)
    indexed = dict(zip(cache.ids, cache.embeddings, strict=True))
    front_matter = {note.source: note.front_matter for note in read_note_files(snapshot) if note.front_matter}
    cs = extract_concepts(sections, chunks, load_glossary(), front_matter)
    ids = [cid for cid in sorted(cs.concepts, key=lambda c: cs.concepts[c].order) if cs.concepts[cid].chunks]
    descriptions = [describe(cs, cid) for cid in ids]
    vectors = description_vectors(cs, ids, descriptions, FakeEmbedder().encode_documents, indexed)

    text_of = {c.id: c.context_text() for c in chunks}
    headings = [i for i, cid in enumerate(ids) if section_chunk(cs, cid) in indexed]
    assert 0 < len(headings) < len(ids)
    name_of = {cid: cs.concepts[cid].name for cid in ids}
    assert {"Transformer", "LoRA"} <= {name_of[ids[i]] for i in headings}
    # PCA's section opens with two lines of prose and a numpy snippet: its chunk would describe numpy, not PCA
    pca = next(cid for cid in ids if name_of[cid] == "主成分分析")
    assert cs.occurrences[cs.home[pca]].kind == "heading" and section_chunk(cs, pca) is None
    for i, cid in enumerate(ids):
        chunk = section_chunk(cs, cid)
        if i in headings:  # the vector the index holds for the chunk that opens the heading's section
            assert chunk == cs.scan.by_id[cs.occurrences[cs.home[cid]].section_id].chunk_ids[0]
            assert np.allclose(vectors[i], FakeEmbedder().encode_documents([text_of[chunk]])[0], atol=1e-6)
            assert descriptions[i] not in embedder.embedded, "a heading's description is not embedded"
        else:
            assert np.allclose(vectors[i], FakeEmbedder().encode_documents([descriptions[i]])[0], atol=1e-6)
            assert descriptions[i] in embedder.embedded

    rebuilt = build_graph(sections, chunks, FakeEmbedder().encode_documents, load_glossary(), GraphSettings(),
                          front_matter, chunk_vectors=indexed)
    assert ConceptGraph.load(snapshot.path(GRAPH_FILE)).to_json() == rebuilt.to_json()


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

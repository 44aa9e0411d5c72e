"""Hybrid search and incremental indexing over hand-made chunks (fake embedder), and RRF fusion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import FakeEmbedder
from retrieval.indexing import FAISS_INDEX, LEXICAL_DIR, VECTOR_IDS
from retrieval.search import HybridSearcher, SearchParams, fuse_rrf, order_by
from retrieval.store import read_chunks
from retrieval.vector_index import VectorIndex
from retrieval_corpus import PASSAGES, build_workspace, chunk_under, corpus_chunks, make_chunk
from studygraph.errors import InputError, WorkspaceError
from studygraph.records import Chunk
from studygraph.settings import RetrievalSettings
from studygraph.workspace import Workspace


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, recording which documents it was asked to embed."""

    def __init__(self, name: str = "fake:hashed-bow") -> None:
        super().__init__(name=name)
        self.embedded: list[str] = []

    def encode_documents(self, texts):
        self.embedded.extend(texts)
        return super().encode_documents(texts)

    def encode_queries(self, texts):
        self.embedded.extend(texts)
        return super().encode_queries(texts)


def open_searcher(root: Path, embedder, settings: RetrievalSettings | None = None, **kwargs) -> HybridSearcher:
    snapshot = Workspace(root).snapshot()
    chunks = {c.id: c for c in read_chunks(snapshot)}
    return HybridSearcher.from_snapshot(snapshot, chunks, embedder, settings or RetrievalSettings(), **kwargs)


@pytest.fixture
def workspace(tmp_path: Path, fake_embedder: FakeEmbedder) -> Path:
    build_workspace(tmp_path, corpus_chunks(), fake_embedder)
    return tmp_path


# --------------------------------------------------------------------------- fusion


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = fuse_rrf([["a", "b", "c"], ["b", "c", "a"]], [1.0, 1.0], k=60)
    assert fused[0][0] == "b"
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_weights_scale_each_ranking_and_zero_ignores_it() -> None:
    assert fuse_rrf([["a"], ["b"]], [1.0, 2.0])[0][0] == "b"
    assert [item for item, _ in fuse_rrf([["a"], ["b"]], [1.0, 0.0])] == ["a"]


def test_rrf_ties_keep_first_appearance_and_duplicates_count_once() -> None:
    assert [i for i, _ in fuse_rrf([["x", "y"], ["y", "x"]], [1.0, 1.0])] == ["x", "y"]
    assert fuse_rrf([["a", "a"]], [1.0], k=1) == [("a", 0.5)]


def test_rrf_needs_one_weight_per_ranking() -> None:
    with pytest.raises(ValueError):
        fuse_rrf([["a"]], [1.0, 1.0])


def test_order_by_uses_the_best_position_in_any_ranking() -> None:
    assert order_by(["c", "a", "z", "b"], ["a", "b"], ["c"]) == ["c", "a", "b", "z"]


def test_search_params_are_validated() -> None:
    with pytest.raises(InputError):
        SearchParams(k=0)
    with pytest.raises(InputError):
        SearchParams(mode="fuzzy")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- searching


def test_each_mode_finds_the_lora_passage_for_a_chinese_question(workspace: Path, fake_embedder) -> None:
    searcher = open_searcher(workspace, fake_embedder)
    lora = chunk_under(corpus_chunks(), "LLaMA")
    for mode in ("hybrid", "lexical", "dense"):
        hits = searcher.search("怎么用少量参数微调大模型", SearchParams(k=3, mode=mode))
        assert hits[0].chunk == lora, mode
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_hybrid_hits_carry_the_true_dense_cosine(workspace: Path, fake_embedder) -> None:
    searcher = open_searcher(workspace, fake_embedder)
    query = "np.linalg.eig 特征值"
    hits = searcher.search(query, SearchParams(k=5))
    qv = fake_embedder.encode_queries([query])[0]
    for hit in hits:
        expected = float(fake_embedder.encode_documents([hit.chunk.context_text()])[0] @ qv)
        assert hit.scores["dense"] == pytest.approx(expected, abs=1e-5)
        assert hit.score == hit.scores["rrf"]
    assert hits[0].chunk == chunk_under(corpus_chunks(), "NumPy")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_lexical_mode_needs_no_embedder(workspace: Path) -> None:
    searcher = open_searcher(workspace, None)
    hits = searcher.search("KMeans", SearchParams(k=2, mode="lexical"))
    assert hits[0].chunk == chunk_under(corpus_chunks(), "K-means") and "lexical" in hits[0].scores
    with pytest.raises(InputError, match="embedder"):
        searcher.search("KMeans", SearchParams(k=2, mode="dense"))


def test_search_many_equals_one_by_one(workspace: Path, fake_embedder) -> None:
    searcher = open_searcher(workspace, fake_embedder)
    queries = ["位置编码有什么用", "batch normalization", "GAN generator"]
    params = SearchParams(k=3)
    assert searcher.search_many(queries, params) == [searcher.search(q, params) for q in queries]


def test_empty_query_is_refused(workspace: Path, fake_embedder) -> None:
    with pytest.raises(InputError, match="empty"):
        open_searcher(workspace, fake_embedder).search("   ")


def test_concept_boost_lifts_the_defining_passage(workspace: Path, fake_embedder) -> None:
    # "马尔可夫决策过程" shares no word with the note, which only says "MDP": only the concept graph links them.
    mdp = chunk_under(corpus_chunks(), "强化学习")
    query = "马尔可夫决策过程由哪几部分组成"
    # BM25 finds nothing; the fake embedder, matching characters such as 组, ranks it second at best.
    plain = open_searcher(workspace, fake_embedder).search(query, SearchParams(k=3))
    assert plain[0].chunk != mdp
    boosted = open_searcher(workspace, fake_embedder, RetrievalSettings(concept_boost=0.5),
                            concept_chunks=lambda q: [mdp.id] if "马尔可夫" in q else [])
    hits = boosted.search(query, SearchParams(k=1))  # the graph rescues what the top k left out
    assert hits[0].chunk == mdp and hits[0].scores["concept"] == 1.0
    off = open_searcher(workspace, fake_embedder, RetrievalSettings(concept_boost=0),
                        concept_chunks=lambda q: [mdp.id])
    assert off.search(query, SearchParams(k=3))[0].chunk != mdp


def test_concept_boost_does_not_count_names_the_words_already_matched(workspace: Path, fake_embedder) -> None:
    # The query's own words put the LLaMA passage first; the concept callback naming other passages must not
    # push it down (the same names would be counted twice).
    llama, gan = chunk_under(corpus_chunks(), "LLaMA"), chunk_under(corpus_chunks(), "GAN")
    searcher = open_searcher(workspace, fake_embedder, RetrievalSettings(concept_boost=5),
                             concept_chunks=lambda q: [llama.id, gan.id])
    hits = searcher.search("LoRA 微调方法", SearchParams(k=3))
    assert hits[0].chunk == llama and gan not in [h.chunk for h in hits]


def test_other_names_of_named_concepts_expand_the_lexical_query(workspace: Path, fake_embedder) -> None:
    # The note says "MDP"; the question says 马尔可夫决策过程; the glossary knows both names.
    mdp = chunk_under(corpus_chunks(), "强化学习")
    query = "马尔可夫决策过程由哪几部分组成"
    terms = {"马尔可夫决策过程": ["MDP", "Markov decision process"]}
    searcher = open_searcher(workspace, fake_embedder,
                             query_terms=lambda q: [t for name, ts in terms.items() if name in q for t in ts])
    assert searcher.search(query, SearchParams(k=1))[0].chunk == mdp
    off = open_searcher(workspace, fake_embedder, RetrievalSettings(alias_weight=0), query_terms=searcher.query_terms)
    assert off.search(query, SearchParams(k=3))[0].chunk != mdp


def test_a_chinese_question_weighs_its_concepts_other_names_less(tmp_path: Path, fake_embedder) -> None:
    # 步长 is the learning rate here, but the graph also reads it as a convolution's stride: the passage reached
    # only through those other names scores cjk_alias_weight of the full expansion for an all-Chinese question,
    # while the passage the question's own words find stays first.
    rate = make_chunk(("AI笔记", "学习率"), "学习率就是梯度下降的步长：太大会震荡，太小收敛很慢。", 10)
    stride = make_chunk(("AI笔记", "卷积步幅"), "步幅（stride）：卷积核每次移动的格数，步幅越大输出越小。", 11)
    build_workspace(tmp_path, [*corpus_chunks(), rate, stride], fake_embedder)

    def stride_score(query: str, settings: RetrievalSettings) -> tuple[float, Chunk]:
        searcher = open_searcher(tmp_path, fake_embedder, settings, query_terms=lambda q: ["stride", "步幅"])
        hits = searcher.search(query, SearchParams(k=len(PASSAGES) + 2))
        return next(h.scores["lexical"] for h in hits if h.chunk == stride), hits[0].chunk

    damped, first = stride_score("梯度下降的步长怎么选", RetrievalSettings(cjk_alias_weight=0.35))
    full, _ = stride_score("梯度下降的步长怎么选", RetrievalSettings(cjk_alias_weight=1.0))
    assert first == rate and damped == pytest.approx(0.35 * full)
    english, _ = stride_score("how large a step should gradient descent take", RetrievalSettings(cjk_alias_weight=0.35))
    assert english == pytest.approx(full)  # an English question keeps the whole bridge to Chinese notes


def test_heading_only_chunks_are_never_returned(tmp_path: Path, fake_embedder) -> None:
    bare = make_chunk(("AI笔记", "六、预训练模型"), "## 六、预训练模型\n\n---", 30)
    chunks = [*corpus_chunks(), bare]
    build_workspace(tmp_path, chunks, fake_embedder)
    searcher = open_searcher(tmp_path, fake_embedder)
    for mode in ("hybrid", "dense", "lexical"):
        hits = searcher.search("预训练模型", SearchParams(k=len(chunks), mode=mode))
        assert bare not in [h.chunk for h in hits], mode
    assert bare.id in searcher.vectors  # still indexed: every chunk keeps its vector


def test_graph_expansion_is_used_only_when_enabled(workspace: Path, fake_embedder) -> None:
    gan = chunk_under(corpus_chunks(), "GAN")
    query = "对抗训练的判别器"
    kwargs = {"expand_chunks": lambda q: [gan.id]}
    without = open_searcher(workspace, fake_embedder, RetrievalSettings(expansion_weight=5), **kwargs)
    with_expansion = open_searcher(workspace, fake_embedder,
                                   RetrievalSettings(graph_expansion=True, expansion_weight=5), **kwargs)
    assert gan not in [h.chunk for h in without.search(query, SearchParams(k=2))]
    assert with_expansion.search(query, SearchParams(k=2))[0].chunk == gan


def test_a_missing_concept_graph_turns_the_boost_off(workspace: Path, fake_embedder) -> None:
    def no_graph(query: str) -> list[str]:
        raise WorkspaceError("Workspace has no 'graph.json'")

    searcher = open_searcher(workspace, fake_embedder, RetrievalSettings(concept_boost=0.5), concept_chunks=no_graph)
    assert searcher.search("LoRA", SearchParams(k=1))[0].chunk == chunk_under(corpus_chunks(), "LLaMA")
    assert searcher.concept_chunks is None


def test_corrupted_index_file_is_refused_with_a_rebuild_hint(workspace: Path, fake_embedder) -> None:
    snapshot = Workspace(workspace).snapshot()
    (snapshot.dir / FAISS_INDEX).write_bytes(b"garbage")
    searcher = open_searcher(workspace, fake_embedder)  # indexes load on first use...
    assert searcher.search("LoRA", SearchParams(k=1, mode="lexical"))  # ...so BM25 alone still answers
    with pytest.raises(WorkspaceError, match="--rebuild"):
        searcher.search("LoRA", SearchParams(k=1, mode="dense"))


def test_a_question_is_embedded_once_however_many_searches_use_it(workspace: Path) -> None:
    embedder = CountingEmbedder()
    searcher = open_searcher(workspace, embedder)
    question = "怎么用少量参数微调大模型"
    hybrid = searcher.search(question, SearchParams(k=3))
    dense = searcher.search(question, SearchParams(k=3, mode="dense"))  # e.g. the relevance check of `ask`
    vector = searcher.encode_query(question)
    assert embedder.embedded == [question]
    assert hybrid[0].chunk == dense[0].chunk == chunk_under(corpus_chunks(), "LLaMA")
    np.testing.assert_allclose(vector, FakeEmbedder().encode_queries([question])[0])
    searcher.search_many(["LoRA", question, "LoRA"], SearchParams(k=1, mode="dense"))
    assert embedder.embedded == [question, "LoRA"]  # a batch embeds only what it has not seen, once


def test_a_missing_index_is_refused_when_the_workspace_is_opened(workspace: Path, fake_embedder) -> None:
    shutil.rmtree(Workspace(workspace).snapshot().dir / LEXICAL_DIR)
    with pytest.raises(WorkspaceError, match="--rebuild"):
        open_searcher(workspace, fake_embedder)


# --------------------------------------------------------------------------- incremental indexing


def test_only_new_chunks_are_embedded_and_removed_ones_disappear(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    chunks = corpus_chunks()
    progress: list[tuple[str, int, int]] = []
    first = build_workspace(tmp_path, chunks, embedder, progress=lambda *a: progress.append(a))
    assert first == {"embedded": len(chunks), "reused": 0, "removed": 0}
    assert ("embed", len(chunks), len(chunks)) in progress

    embedder.embedded.clear()
    gan = chunk_under(chunks, "GAN")
    new = make_chunk(("AI笔记", "Diffusion"), "Diffusion models add noise step by step and learn to denoise.", 20)
    changed = [c for c in chunks if c != gan] + [new]
    second = build_workspace(tmp_path, changed, embedder)
    assert second == {"embedded": 1, "reused": len(chunks) - 1, "removed": 1}
    assert embedder.embedded == [new.context_text()]

    searcher = open_searcher(tmp_path, embedder)
    assert searcher.search("diffusion denoise noise", SearchParams(k=1))[0].chunk == new
    for mode in ("hybrid", "dense", "lexical"):
        assert gan not in [h.chunk for h in searcher.search("generator discriminator", SearchParams(10, mode))]
    assert gan.id not in searcher.vectors and len(searcher.vectors) == len(changed)


def test_unchanged_chunks_reuse_every_component(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    build_workspace(tmp_path, corpus_chunks(), embedder)
    before = Workspace(tmp_path).snapshot().manifest.files
    embedder.embedded.clear()
    assert build_workspace(tmp_path, corpus_chunks(), embedder) == {
        "embedded": 0, "reused": len(corpus_chunks()), "removed": 0}
    after = Workspace(tmp_path).snapshot().manifest.files
    assert embedder.embedded == []
    assert {k: v.sha256 for k, v in after.items() if k != "chunks.jsonl"} == {
        k: v.sha256 for k, v in before.items() if k != "chunks.jsonl"}


def test_another_embedder_re_embeds_everything(tmp_path: Path) -> None:
    build_workspace(tmp_path, corpus_chunks(), CountingEmbedder())
    other = CountingEmbedder(name="fake:other")
    assert build_workspace(tmp_path, corpus_chunks(), other)["embedded"] == len(corpus_chunks())
    meta = json.loads((Workspace(tmp_path).snapshot().path("vectors/meta.json")).read_text())
    assert meta == {"embedder": "fake:other", "dim": other.dim}


def test_embedding_cache_is_plain_npy_keyed_by_chunk_id(workspace: Path, fake_embedder) -> None:
    snapshot = Workspace(workspace).snapshot()
    ids = json.loads(snapshot.path(VECTOR_IDS).read_text())
    vectors = np.load(snapshot.path("vectors/embeddings.npy"), allow_pickle=False)
    assert ids == [c.id for c in corpus_chunks()] and vectors.shape == (len(ids), fake_embedder.dim)
    np.testing.assert_allclose(vectors[0], fake_embedder.encode_documents([corpus_chunks()[0].context_text()])[0])


def test_large_workspaces_switch_to_hnsw_and_removal_rebuilds_it(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    settings = RetrievalSettings(exact_index_max=3)
    chunks = corpus_chunks()
    build_workspace(tmp_path, chunks, embedder, settings)
    snapshot = Workspace(tmp_path).snapshot()
    assert VectorIndex.load(snapshot.path(FAISS_INDEX), [c.id for c in chunks]).kind == "hnsw"
    gan = chunk_under(chunks, "GAN")
    stats = build_workspace(tmp_path, [c for c in chunks if c != gan], embedder, settings)
    assert stats["removed"] == 1 and stats["embedded"] == 0
    searcher = open_searcher(tmp_path, embedder, settings)
    assert searcher.vectors.kind == "hnsw" and len(searcher.vectors) == len(chunks) - 1
    assert searcher.search("Batch normalization mini-batch", SearchParams(k=1))[0].chunk == chunk_under(
        chunks, "English notes")


def test_empty_workspace_searches_to_nothing(tmp_path: Path, fake_embedder) -> None:
    build_workspace(tmp_path, [], fake_embedder)
    searcher = open_searcher(tmp_path, fake_embedder)
    for mode in ("hybrid", "dense", "lexical"):
        assert searcher.search("anything", SearchParams(k=3, mode=mode)) == []


def test_a_damaged_embedding_cache_is_rebuilt_not_fatal(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    build_workspace(tmp_path, corpus_chunks(), embedder)
    snapshot = Workspace(tmp_path).snapshot()
    (snapshot.dir / "vectors" / "embeddings.npy").write_bytes(b"damaged")
    stats = build_workspace(tmp_path, corpus_chunks(), embedder)
    assert stats["embedded"] == len(corpus_chunks())
    assert open_searcher(tmp_path, embedder).search("KMeans", SearchParams(k=1))[0].chunk == chunk_under(
        corpus_chunks(), "K-means")


def test_the_service_expands_queries_through_the_glossary(workspace: Path, fake_embedder) -> None:
    from assistant.service import StudyService
    from studygraph.settings import Settings

    service = StudyService(Settings(workspace=workspace), embedder=fake_embedder)
    names = service.concept_names_for_query("长短期记忆网络在PyTorch里怎么定义")
    assert "LSTM" in names and "长短期记忆网络" not in names  # the other names, not the one typed
    assert service.concept_names_for_query("今天天气不错") == []
    mdp = chunk_under(corpus_chunks(), "强化学习")
    assert service.searcher.search("马尔可夫决策过程由哪几部分组成", SearchParams(k=1))[0].chunk == mdp

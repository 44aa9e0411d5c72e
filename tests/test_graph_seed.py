"""Quality targets on the seed note, and the graph of both corpora (slow: the real embedder for `related`)."""

from __future__ import annotations

import networkx as nx
import pytest

from conftest import CORPORA, SEED, FakeEmbedder
from graph_records import folder_records, note_records
from ingest.graph.build import build_graph
from kg.glossary import load_glossary
from kg.graph import ConceptGraph
from kg.names import normalize_name
from kg.resolve import ConceptResolver
from studygraph.records import EDGE_TYPES
from studygraph.settings import GraphSettings


@pytest.fixture(scope="module")
def seed():
    glossary = load_glossary()
    sections, chunks = note_records(SEED.read_text(encoding="utf-8"), SEED.name)
    graph = build_graph(sections, chunks, FakeEmbedder().encode_documents, glossary, GraphSettings())
    return graph, ConceptResolver(graph, glossary), {c.id for c in chunks}, (sections, chunks)


def _id(resolver: ConceptResolver, name: str) -> str:
    found = resolver.resolve(name)
    assert found.concept_id, f"{name} does not resolve on the seed"
    return found.concept_id


def test_seed_has_enough_concepts(seed):
    graph, _, _, _ = seed
    assert len(graph) >= 120


@pytest.mark.parametrize("names", [("PCA", "主成分分析", "principal component analysis"),
                                   ("CNN", "卷积神经网络", "convolutional neural network"),
                                   ("GAN", "生成对抗网络", "generative adversarial network"),
                                   ("attention mechanism", "注意力机制", "Attention")])
def test_each_name_pair_is_one_concept(seed, names):
    graph, resolver, _, _ = seed
    ids = {_id(resolver, n) for n in names}
    assert len(ids) == 1, names
    holders = {c.id for c in graph.concepts for n in (c.name, *c.aliases)
               if normalize_name(n) in {normalize_name(x) for x in names}}
    assert holders == ids  # no second concept carries any of these names


def test_prerequisite_chains_attention_transformer_bert_gpt(seed):
    graph, resolver, _, _ = seed
    attention, transformer = _id(resolver, "注意力机制"), _id(resolver, "Transformer")
    assert attention in graph.prerequisites_of(transformer, transitive=True)
    for model in ("BERT", "GPT"):
        ancestors = graph.prerequisites_of(_id(resolver, model), transitive=True)
        assert {transformer, attention} <= ancestors, model


def test_linear_algebra_is_used_in_pca_and_nothing_points_back(seed):
    graph, resolver, _, _ = seed
    linalg, pca = _id(resolver, "线性代数"), _id(resolver, "主成分分析")
    assert graph.edge(linalg, pca, "used_in") is not None
    pairs = [(linalg, pca), (_id(resolver, "注意力机制"), _id(resolver, "Transformer")),
             (_id(resolver, "Transformer"), _id(resolver, "BERT")), (_id(resolver, "Transformer"), _id(resolver, "GPT"))]
    for before, after in pairs:
        for type_ in ("prerequisite", "used_in", "part_of"):
            assert graph.edge(after, before, type_) is None, (graph.concept(after).name, type_)


def test_path_to_lora_stays_on_topic(seed):
    graph, resolver, _, _ = seed
    lora = _id(resolver, "LoRA")
    ancestors = graph.prerequisites_of(lora, transitive=True, types=("prerequisite", "used_in"))
    assert {_id(resolver, "注意力机制"), _id(resolver, "Transformer")} <= ancestors
    for unrelated in ("推荐系统", "面试准备", "职业发展", "技能要求", "模型部署", "强化学习", "生成对抗网络"):
        found = resolver.resolve(unrelated)  # career headings may be read as structure: then nothing to reach
        assert found.how == "fuzzy" or found.concept_id not in ancestors, unrelated


def test_every_edge_is_evidenced_by_existing_chunks_and_prerequisites_are_acyclic(seed):
    graph, _, chunk_ids, _ = seed
    assert all(graph.edges(t) for t in EDGE_TYPES)
    for edge in graph.edges():
        assert edge.evidence, edge
        assert all(ev.chunk_id in chunk_ids for ev in edge.evidence), edge
    assert nx.is_directed_acyclic_graph(graph.prerequisite_dag())
    for concept in graph.concepts:
        assert set(concept.chunks) <= chunk_ids and set(concept.mentions) <= chunk_ids


def test_rebuilding_gives_the_same_graph_and_it_survives_save_and_load(seed, tmp_path):
    graph, _, _, (sections, chunks) = seed
    again = build_graph(sections, chunks, FakeEmbedder().encode_documents, load_glossary(), GraphSettings())
    assert again.to_json() == graph.to_json()
    graph.save(tmp_path / "graph.json")
    assert ConceptGraph.load(tmp_path / "graph.json").to_json() == graph.to_json()


@pytest.mark.slow
def test_seed_related_edges_with_the_real_embedder(bundled_embedder):
    glossary = load_glossary()
    sections, chunks = note_records(SEED.read_text(encoding="utf-8"), SEED.name)
    settings = GraphSettings()
    graph = build_graph(sections, chunks, bundled_embedder.encode_documents, glossary, settings)
    related = graph.edges("related")
    assert related and all(e.weight >= settings.related_threshold for e in related)
    per_concept = nx.Graph([(e.source, e.target) for e in related])
    assert max(dict(per_concept.degree).values()) <= 3 * settings.related_top_k  # no hubs


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["paddle-dl-zh", "cs231n-notes-en"])
def test_both_corpora_build_a_sound_graph(corpus, bundled_embedder):
    sections, chunks = folder_records(CORPORA / corpus)
    graph = build_graph(sections, chunks, bundled_embedder.encode_documents, load_glossary(), GraphSettings())
    chunk_ids = {c.id for c in chunks}
    assert len(graph) >= 150
    assert all(graph.edges(t) for t in EDGE_TYPES)
    assert nx.is_directed_acyclic_graph(graph.prerequisite_dag())
    assert all(ev.chunk_id in chunk_ids for _, ev in graph.evidence_chunks())


def test_the_readme_goal_python_bian_cheng_is_found_by_the_picker(seed):
    from kg.resolve import picker_label, search_concepts

    graph, resolver, _, _ = seed
    python = _id(resolver, "Python编程")
    assert search_concepts(resolver, "Python编程")[0] == python
    assert "Python编程" in picker_label(graph.concept(python))  # what the path page's multiselect filters on


KMEANS_UPLOAD = """# K-means 笔记

## K-means 算法

K-means 把样本分成 K 个簇，每个簇由质心代表。算法反复把样本分给最近的质心，再更新质心。

### 选择 K

- 肘部法则：画出不同 K 的簇内平方和，找拐点。
- 轮廓系数：衡量样本与本簇和最近他簇的距离差。
"""


def test_an_upload_changes_only_what_it_contributes(seed):
    from graph_records import notes_records

    graph, _, _, _ = seed
    notes = [(SEED.name, SEED.read_text(encoding="utf-8")), ("zz-kmeans.md", KMEANS_UPLOAD)]
    both = build_graph(*notes_records(notes), FakeEmbedder().encode_documents, load_glossary(), GraphSettings())
    for concept in graph.concepts:  # a concept keeps the chapter where it is defined, whatever mentions it later
        assert concept.id in both, concept.name
        assert (both.concept(concept.id).name, both.concept(concept.id).chapter) == (concept.name, concept.chapter)
    resolver = ConceptResolver(both, load_glossary())
    siblings = {_id(resolver, "肘部法则"), _id(resolver, "轮廓系数")}
    assert not any({e.source, e.target} == siblings for e in both.edges("part_of"))

"""Edges of each type and rule, their evidence, cycle breaking, and retraction when a note is edited or deleted."""

from __future__ import annotations

import networkx as nx
import pytest

from conftest import FIXTURE_NOTES, FakeEmbedder
from graph_records import folder_records, notes_records
from ingest.graph.build import build_graph
from ingest.graph.drafts import Draft, merge_drafts
from kg.glossary import GlossaryEntry, load_glossary
from kg.resolve import ConceptResolver
from studygraph.records import Evidence
from studygraph.settings import GraphSettings


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


def _build(sections, chunks, glossary, embed=None, **settings):
    return build_graph(sections, chunks, embed, glossary, GraphSettings(**settings))


@pytest.fixture(scope="module")
def fixture_graph(glossary):
    sections, chunks = folder_records(FIXTURE_NOTES)
    graph = _build(sections, chunks, glossary, FakeEmbedder().encode_documents)
    return graph, ConceptResolver(graph, glossary), {c.id for c in chunks}


def _id(resolver, name):
    found = resolver.resolve(name)
    assert found.concept_id, f"{name} does not resolve"
    return found.concept_id


def _rules(graph, resolver, a, b, type_):
    edge = graph.edge(_id(resolver, a), _id(resolver, b), type_)
    return {ev.rule for ev in edge.evidence} if edge else set()


def test_part_of_from_headings_and_list_items(fixture_graph):
    graph, resolver, _ = fixture_graph
    assert "heading_hierarchy" in _rules(graph, resolver, "线性代数", "数学基础", "part_of")
    assert "list_item" in _rules(graph, resolver, "奇异值分解", "线性代数", "part_of")
    assert "table_row" in _rules(graph, resolver, "LeNet", "卷积神经网络", "part_of")
    assert "bold_term" in _rules(graph, resolver, "Momentum", "Gradient descent", "part_of")
    # "微调方法: LoRA, Adapter, Prefix Tuning" under LoRA lists LoRA's peers, not its parts.
    assert not _rules(graph, resolver, "Adapter", "LoRA", "part_of")


def test_used_in_from_application_lists(fixture_graph):
    graph, resolver, _ = fixture_graph
    assert "application_list" in _rules(graph, resolver, "线性代数", "主成分分析", "used_in")
    assert "application_list" in _rules(graph, resolver, "注意力机制", "机器翻译", "used_in")
    assert not _rules(graph, resolver, "主成分分析", "线性代数", "used_in")


def test_prerequisites_from_cue_phrases(fixture_graph):
    graph, resolver, _ = fixture_graph
    assert "cue_phrase" in _rules(graph, resolver, "线性代数", "神经网络基础", "prerequisite")  # 前置知识：
    assert "cue_phrase" in _rules(graph, resolver, "概率论与统计", "神经网络基础", "prerequisite")
    assert "cue_phrase" in _rules(graph, resolver, "注意力机制", "BERT", "prerequisite")  # 需要先理解 ...
    assert "cue_phrase" in _rules(graph, resolver, "Transformer", "GPT", "prerequisite")  # builds on
    assert "cue_phrase" in _rules(graph, resolver, "Gradient descent", "Adam", "prerequisite")  # requires
    assert "cue_phrase" in _rules(graph, resolver, "Transformer", "LoRA", "prerequisite")
    assert not _rules(graph, resolver, "BERT", "Transformer", "prerequisite")
    # "BERT 是基于 Transformer 编码器的双向预训练模型": the category after 的 is no prerequisite.
    title = resolver.resolve("Transformer与预训练模型")  # the note's title may be read as structure (no concept)
    assert title.how == "fuzzy" or not graph.edge(title.concept_id, _id(resolver, "BERT"), "prerequisite")


def test_prerequisites_from_the_glossary_only_between_concepts_of_the_notes(fixture_graph):
    graph, resolver, _ = fixture_graph
    assert "glossary" in _rules(graph, resolver, "神经网络基础", "卷积神经网络", "prerequisite")
    ids = set(graph.g.nodes)
    assert all(e.source in ids and e.target in ids for e in graph.edges())


def test_every_edge_has_evidence_in_existing_chunks_and_no_prerequisite_cycle(fixture_graph):
    graph, _, chunk_ids = fixture_graph
    assert graph.edges("prerequisite") and graph.edges("related")
    for edge in graph.edges():
        assert edge.evidence and 0 < edge.weight <= 1
        assert all(ev.chunk_id in chunk_ids and ev.rule for ev in edge.evidence)
    assert nx.is_directed_acyclic_graph(graph.prerequisite_dag())


def test_related_edges_are_similar_pairs_once(fixture_graph):
    graph, _, _ = fixture_graph
    pairs = [frozenset((e.source, e.target)) for e in graph.edges("related")]
    assert len(pairs) == len(set(pairs))
    assert all(e.weight >= GraphSettings().related_threshold for e in graph.edges("related"))


def test_no_related_edges_without_an_embedder(glossary):
    sections, chunks = folder_records(FIXTURE_NOTES)
    assert not _build(sections, chunks, glossary).edges("related")


ASYMMETRY = {
    "a.md": "# 基础\n\n## 感知机\n\n感知机是一种二分类的线性模型。\n",
    "b.md": "# 进阶\n\n## 多层感知机\n\n多层感知机把多个感知机堆叠起来，层与层之间使用非线性激活。\n",
}


def test_reference_asymmetry_and_its_evidence(glossary):
    graph = _build(*notes_records(ASYMMETRY.items()), load_glossary().merged([]))
    resolver = ConceptResolver(graph, glossary)
    edge = graph.edge(_id(resolver, "感知机"), _id(resolver, "多层感知机"), "prerequisite")
    assert edge is not None
    assert {ev.rule for ev in edge.evidence} >= {"reference_asymmetry"}
    assert not graph.edge(_id(resolver, "多层感知机"), _id(resolver, "感知机"), "prerequisite")


CODE_AND_CUES = {
    "n.md": """# 模型

## 注意力机制

注意力机制对值做加权求和。

## Transformer

```python
self.attn = nn.MultiheadAttention(embed_dim, num_heads)
```

## 卷积神经网络

卷积神经网络常用于图像分类。

## 图像分类

图像分类给整张图片一个标签。
"""}


def test_used_in_from_code_and_application_cues(glossary):
    graph = _build(*notes_records(CODE_AND_CUES.items()), glossary)
    resolver = ConceptResolver(graph, glossary)
    assert "code_usage" in _rules(graph, resolver, "注意力机制", "Transformer", "used_in")
    assert "application_cue" in _rules(graph, resolver, "卷积神经网络", "图像分类", "used_in")


CYCLE = {
    "c.md": """# 循环

## 甲概念

甲概念的前置知识：乙概念。

## 乙概念

乙概念的前置知识：丙概念。

## 丙概念

丙概念基于甲概念。
"""}


def test_prerequisite_cycles_are_broken_at_the_weakest_edge_and_recorded(glossary):
    graph = _build(*notes_records(CYCLE.items()), glossary)
    resolver = ConceptResolver(graph, glossary)
    a, b, c = (_id(resolver, n) for n in ("甲概念", "乙概念", "丙概念"))
    assert nx.is_directed_acyclic_graph(graph.prerequisite_dag())
    assert graph.edge(b, a, "prerequisite") and graph.edge(c, b, "prerequisite")  # 前置知识 (0.9) stays
    assert graph.edge(a, c, "prerequisite") is None  # 基于 (0.7), the weakest of the cycle, is removed
    [broken] = graph.broken_cycles
    assert (broken.removed.source, broken.removed.target) == (a, c)
    assert set(broken.cycle) == {a, b, c}
    assert broken.removed.evidence[0].rule == "cue_phrase"


def test_a_glossary_prerequisite_links_two_concepts_of_the_notes(glossary):
    extra = glossary.merged([GlossaryEntry(key="zeta method", en="zeta method", zh="泽塔方法",
                                           prerequisites=("eta method",)),
                             GlossaryEntry(key="eta method", en="eta method", zh="伊塔方法")])
    notes = {"z.md": "# 方法\n\n## 伊塔方法\n\n一种方法。\n\n## 泽塔方法\n\n另一种方法。\n"}
    graph = _build(*notes_records(notes.items()), extra)
    resolver = ConceptResolver(graph, extra)
    assert _rules(graph, resolver, "eta method", "zeta method", "prerequisite") == {"glossary"}


def test_editing_or_deleting_a_note_retracts_its_concepts_and_edges(glossary):
    notes = {p.name: p.read_text(encoding="utf-8") for p in sorted(FIXTURE_NOTES.glob("*.md"))}
    before = _build(*notes_records(notes.items()), glossary)
    r0 = ConceptResolver(before, glossary)
    assert "cue_phrase" in _rules(before, r0, "概率论与统计", "神经网络基础", "prerequisite")

    edited = dict(notes)
    edited["02-deep-learning.md"] = notes["02-deep-learning.md"].replace("前置知识：线性代数、概率论与统计。", "")
    del edited["03-transformers.md"]
    after = _build(*notes_records(edited.items()), glossary)
    r1 = ConceptResolver(after, glossary)
    assert r1.resolve("BERT").concept_id is None and r1.resolve("LoRA").concept_id is None
    assert not _rules(after, r1, "概率论与统计", "神经网络基础", "prerequisite")
    survivors = {c for e in after.edges() for ev in e.evidence for c in [ev.chunk_id]}
    _, edited_chunks = notes_records(edited.items())
    assert survivors <= {c.id for c in edited_chunks}


def test_merging_drafts_combines_reasons():
    ev = [Evidence(chunk_id="c1", rule="cue_phrase"), Evidence(chunk_id="c2", rule="glossary"),
          Evidence(chunk_id="c3", rule="cue_phrase")]
    drafts = [Draft("a", "b", "prerequisite", 0.9, ev[0]), Draft("a", "b", "prerequisite", 0.6, ev[1]),
              Draft("a", "b", "prerequisite", 0.7, ev[2]), Draft("b", "c", "used_in", 0.5, ev[1])]
    edges = {(e.source, e.target): e for e in merge_drafts(drafts)}
    assert edges[("a", "b")].weight == pytest.approx(1 - 0.1 * 0.4)  # one cue_phrase (its best) and the glossary
    assert [e.chunk_id for e in edges[("a", "b")].evidence] == ["c1", "c2", "c3"]
    assert edges[("b", "c")].weight == 0.5

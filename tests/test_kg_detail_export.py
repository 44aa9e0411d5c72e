"""Concept detail, graph exports and the study-path Markdown, on the hand-made graph shaped like the seed notes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from kg.detail import concept_detail
from kg.export import EXPORT_FORMATS, export_graph, graph_json, graph_mermaid
from kg.glossary import load_glossary
from kg.path_export import merge_sources, path_markdown, source_link
from kg.paths import plan_path
from kg.resolve import ConceptResolver
from studygraph.errors import InputError
from studygraph.records import SourceRef
from test_paths import build_fixture


@pytest.fixture(scope="module")
def fixture():
    graph, chunks = build_fixture()
    return graph, chunks, ConceptResolver(graph, load_glossary())


def names(items) -> list[str]:
    return [i.concept for i in items]


def test_detail_lists_each_relation_from_the_concepts_side(fixture):
    graph, chunks, _ = fixture
    detail = concept_detail(graph, chunks, "attn")
    assert (detail.name, detail.aliases, detail.chapter) == ("注意力机制", ("attention mechanism", "attention"), "深度学习")
    assert names(detail.prerequisites) == ["神经网络"]
    assert sorted(names(detail.dependents)) == ["Transformer", "自注意力"]
    assert names(detail.part_of) == ["深度学习"] and names(detail.parts) == ["自注意力"]
    assert detail.uses == () and detail.used_in == ()
    tools = concept_detail(graph, chunks, "numpy")
    assert names(tools.used_in) == ["神经网络"] and names(tools.uses) == ["数据结构"]


def test_detail_resolves_sources_and_evidence_to_file_heading_and_lines(fixture):
    graph, chunks, _ = fixture
    detail = concept_detail(graph, chunks, "tf")
    assert [(s.source, s.heading_path[-1], s.line_start, s.line_end) for s in detail.sources] == [
        ("notes.md", "Transformer", 120, 128)]
    evidence = detail.prerequisites[0].evidence[0]  # 注意力机制 -> Transformer, read in Transformer's passage
    assert (evidence.rule, evidence.chunk_id, evidence.source) == ("cue", "c-tf", "notes.md")
    assert (evidence.heading_path[-1], evidence.line_start, evidence.line_end) == ("Transformer", 120, 128)


def test_detail_keeps_evidence_whose_passage_is_missing_unresolved(fixture):
    graph, chunks, _ = fixture
    partial = {cid: c for cid, c in chunks.items() if cid != "c-tf"}
    detail = concept_detail(graph, partial, "tf")
    assert detail.sources == ()
    evidence = detail.prerequisites[0].evidence[0]
    assert evidence.chunk_id == "c-tf" and evidence.source is None and evidence.line_start is None


def test_detail_json_names_every_relation(fixture):
    graph, chunks, _ = fixture
    data = concept_detail(graph, chunks, "nn").model_dump(mode="json")
    assert {"id", "name", "aliases", "chapter", "importance", "sources", "prerequisites", "dependents", "uses",
            "used_in", "part_of", "parts", "related"} <= set(data)
    assert {p["concept"] for p in data["prerequisites"]} == {"线性代数", "概率论"}
    assert data["uses"][0] == {"concept": "NumPy", "concept_id": "numpy", "weight": 1.0, "evidence": [
        {"chunk_id": "c-nn", "rule": "applications", "detail": "nn mentions it", "source": "notes.md",
         "heading_path": ["我的笔记", "深度学习", "神经网络"], "line_start": 90, "line_end": 98}]}


def test_json_export_round_trips_every_node_and_edge(fixture):
    graph, _, _ = fixture
    data = json.loads(export_graph(graph, "json"))
    assert data == json.loads(json.dumps(graph_json(graph), ensure_ascii=False))
    assert {n["id"] for n in data["nodes"]} == {c.id for c in graph.concepts}
    edges = {(e["source"], e["target"], e["type"]) for e in data["edges"]}
    assert edges == {(e.source, e.target, e.type) for e in graph.edges()}
    lora = next(e for e in data["edges"] if (e["source"], e["type"]) == ("lora", "part_of"))
    assert lora["target_name"] == "微调方法" and lora["evidence"][0]["rule"] == "heading"


def test_graphml_export_is_readable_by_networkx(fixture):
    import networkx as nx

    graph, _, _ = fixture
    text = export_graph(graph, "graphml")
    ET.fromstring(text)
    read = nx.parse_graphml(text, force_multigraph=True)
    assert read.number_of_nodes() == len(graph) and read.number_of_edges() == len(graph.edges())
    assert read.nodes["svd"]["name"] == "奇异值分解" and read.nodes["svd"]["aliases"] == "SVD"
    evidence = json.loads(read.get_edge_data("attn", "tf")["prerequisite"]["evidence"])
    assert evidence == [{"chunk_id": "c-tf", "rule": "cue", "detail": "tf mentions it"}]


def test_mermaid_export_draws_each_edge_type_with_its_arrow(fixture):
    graph, _, _ = fixture
    text = graph_mermaid(graph)
    node = {line.split('["')[1].rstrip('"]'): line.split("[")[0].strip() for line in text.splitlines() if '["' in line}
    assert f"{node['注意力机制']} -->|prerequisite| {node['Transformer']}" in text
    assert f"{node['NumPy']} -.->|used_in| {node['神经网络']}" in text
    assert f"{node['LoRA']} --o|part_of| {node['微调方法']}" in text


def test_unknown_export_format_is_an_input_error(fixture):
    graph, _, _ = fixture
    with pytest.raises(InputError, match=", ".join(EXPORT_FORMATS)):
        export_graph(graph, "dot")


def test_path_markdown_is_one_checklist_item_a_step_in_path_order(fixture):
    graph, chunks, resolver = fixture
    path = plan_path(graph, resolver, chunks, ["LoRA", "量子计算"], known=["Python编程"])
    text = path_markdown(path)
    items = [line for line in text.splitlines() if line.startswith("- [ ] ")]
    assert len(items) == len(path.steps)
    assert [i.split("**")[1] for i in items] == [s.concept for s in path.steps]
    assert items[-1].startswith("- [ ] **LoRA** (Low-Rank Adaptation) — your goal")
    assert "[notes.md § LoRA (lines 170–178)](notes.md#L170-L178)" in items[-1]
    assert text.startswith("# Study path to LoRA\n") and "'量子计算' is not in your notes" in text
    assert "Already known, skipped: " in text and "NumPy" in text.split("Already known")[1].splitlines()[0]
    assert "## Foundations" in text and "## Goal" in text and "300 CJK" in text


def test_adjacent_passages_of_one_section_are_linked_once():
    head = ("笔记", "LoRA")
    refs = [SourceRef(chunk_id="a", source="笔记 1.md", heading_path=head, line_start=10, line_end=20),
            SourceRef(chunk_id="b", source="笔记 1.md", heading_path=head, line_start=21, line_end=30),
            SourceRef(chunk_id="c", source="笔记 1.md", heading_path=head, line_start=60, line_end=70)]
    merged = merge_sources(refs)
    assert [(r.line_start, r.line_end) for r in merged] == [(10, 30), (60, 70)]
    assert source_link(merged[0]) == "[笔记 1.md § LoRA (lines 10–30)](%E7%AC%94%E8%AE%B0%201.md#L10-L30)"

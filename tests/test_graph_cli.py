"""`studygraph concepts`, `concept NAME` and `graph export`, through the CLI runner, on a workspace of the fixture."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FIXTURE_NOTES, FakeEmbedder
from graph_records import folder_records
from ingest.graph.build import build_graph
from kg.glossary import load_glossary
from kg.graph import GRAPH_FILE
from retrieval.store import CHUNKS_FILE, write_chunks
from studygraph.settings import EmbedderSettings, GraphSettings
from studygraph.workspace import Workspace
from ui.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the fixture notes' chunks and graph (what ingest writes for these two components)."""
    root = tmp_path_factory.mktemp("graph-cli") / "ws"
    sections, chunks = folder_records(FIXTURE_NOTES)
    graph = build_graph(sections, chunks, FakeEmbedder().encode_documents, load_glossary(), GraphSettings())
    with Workspace(root).transaction() as tx:
        write_chunks(tx.path(CHUNKS_FILE), chunks)
        graph.save(tx.path(GRAPH_FILE))
        tx.commit(embedder={"name": EmbedderSettings().model, "dim": 384},
                  counts={"chunks": len(chunks), "concepts": len(graph)})
    return root


def _run(clean_env, *args: str):
    return runner.invoke(app, list(args))


def test_concepts_lists_every_concept_as_json(clean_env, workspace):
    result = _run(clean_env, "concepts", "--json", "-w", str(workspace))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {"id", "name", "aliases", "chapter", "importance"} <= set(rows[0])
    by_name = {r["name"]: r for r in rows}
    assert "PCA" in by_name["主成分分析"]["aliases"] and by_name["线性代数"]["chapter"] == "数学基础"
    table = _run(clean_env, "concepts", "-w", str(workspace))
    assert table.exit_code == 0 and "主成分分析" in table.stdout


def test_concept_shows_edges_with_evidence_and_sources(clean_env, workspace):
    result = _run(clean_env, "concept", "attention mechanism", "--json", "-w", str(workspace))
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["name"] == "注意力机制"
    for key in ("id", "aliases", "prerequisites", "dependents", "uses", "used_in", "part_of", "parts", "related",
                "sources"):
        assert key in detail
    dependents = {d["concept"]: d for d in detail["dependents"]}
    assert "Transformer" in dependents and "BERT" in dependents
    evidence = dependents["Transformer"]["evidence"]
    assert evidence and {"chunk_id", "rule"} <= set(evidence[0])
    assert {u["concept"] for u in detail["used_in"]} >= {"机器翻译"}
    source = detail["sources"][0]
    assert source["source"] == "02-deep-learning.md" and source["line_start"] <= source["line_end"]
    assert source["heading_path"][-1].endswith("注意力机制（Attention Mechanism）")


def test_unknown_concept_exits_non_zero_with_suggestions(clean_env, workspace):
    result = _run(clean_env, "concept", "Transformer 的各种变体与改进", "-w", str(workspace))
    assert result.exit_code != 0
    assert "Transformer" in result.output and "did you mean" in result.output
    as_json = _run(clean_env, "concept", "量子计算机", "--json", "-w", str(workspace))
    assert as_json.exit_code != 0
    answer = json.loads(as_json.stdout)
    assert answer["concept"] is None and isinstance(answer["suggestions"], list)


def test_export_json_graphml_and_mermaid(clean_env, workspace, tmp_path):
    result = _run(clean_env, "graph", "export", "--format", "json", "-w", str(workspace))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ids = {n["id"] for n in data["nodes"]}
    assert {"id", "name"} <= set(data["nodes"][0])
    assert data["edges"] and all({"source", "target", "type", "weight", "evidence"} <= set(e) for e in data["edges"])
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])

    out = tmp_path / "g.graphml"
    result = _run(clean_env, "graph", "export", "--format", "graphml", "-o", str(out), "-w", str(workspace))
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert len(root.findall(".//g:node", ns)) == len(ids)
    assert len(root.findall(".//g:edge", ns)) == len(data["edges"])

    result = _run(clean_env, "graph", "export", "--format", "mermaid", "-w", str(workspace))
    assert result.exit_code == 0 and result.stdout.startswith("graph LR")
    assert "|prerequisite|" in result.stdout and '"注意力机制"' in result.stdout

    bad = _run(clean_env, "graph", "export", "--format", "dot", "-w", str(workspace))
    assert bad.exit_code != 0 and "json, graphml, mermaid" in bad.output


def test_a_missing_workspace_is_one_clear_error(clean_env, tmp_path):
    result = _run(clean_env, "concepts", "-w", str(tmp_path / "nowhere"))
    assert result.exit_code != 0 and "Traceback" not in result.output

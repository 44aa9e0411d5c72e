"""`studygraph path`, `next` and `profile` through the CLI runner, on a workspace holding the fixture graph."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kg.graph import GRAPH_FILE
from kg.profile import Profile, load_profile, save_profile
from retrieval.store import CHUNKS_FILE, write_chunks
from studygraph.workspace import Workspace
from test_paths import build_fixture
from ui.cli import app

EMBEDDER = "fake:hashed-bow"


@pytest.fixture
def ws(clean_env, monkeypatch: pytest.MonkeyPatch):
    """A workspace with the fixture graph and its chunks; the CLI reads it with default settings."""
    graph, chunks = build_fixture()
    workspace = Workspace(clean_env / "ws")
    with workspace.lock(), workspace.transaction() as tx:
        write_chunks(tx.path(CHUNKS_FILE), chunks.values())
        graph.save(tx.path(GRAPH_FILE))
        tx.commit(embedder={"name": EMBEDDER, "dim": 256})
    monkeypatch.setenv("STUDYGRAPH_EMBEDDER__MODEL", EMBEDDER)
    return workspace


def run(ws: Workspace, *args: str):
    result = CliRunner().invoke(app, [*args, "--workspace", str(ws.root)])
    return result


def test_path_json_has_the_documented_shape(ws):
    result = run(ws, "path", "LoRA", "量子计算机理论", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"goals", "unknown_goals", "known", "steps"} <= set(data)
    assert data["goals"][0]["query"] == "LoRA" and data["goals"][0]["concept"] == "LoRA"
    assert data["unknown_goals"][0]["query"] == "量子计算机理论"
    assert isinstance(data["unknown_goals"][0]["suggestions"], list)
    step = data["steps"][-1]
    assert {"concept", "aliases", "stage", "reason", "minutes", "sources"} <= set(step)
    assert set(step["sources"][0]) >= {"chunk_id", "source", "heading_path", "line_start", "line_end"}
    names = [s["concept"] for s in data["steps"]]
    assert names.index("注意力机制") < names.index("Transformer") < names.index("LoRA")
    assert "推荐系统" not in names and "面试准备" not in names


def test_path_known_option_removes_concepts_and_their_parts(ws):
    result = run(ws, "path", "BERT", "--known", "Python编程,数学基础", "--json")
    data = json.loads(result.stdout)
    names = {s["concept"] for s in data["steps"]}
    assert "Transformer" in names
    assert not names & {"数学基础", "线性代数", "奇异值分解", "概率论", "Python编程", "NumPy", "数据结构"}


def test_path_without_known_uses_the_saved_profile(ws):
    save_profile(ws, Profile(known=["数学基础"], not_known=["线性代数"], goals=["BERT"]))
    data = json.loads(run(ws, "path", "--json").stdout)
    names = [s["concept"] for s in data["steps"]]
    assert names[-1] == "BERT" and "线性代数" in names and "概率论" not in names
    override = json.loads(run(ws, "path", "BERT", "--known", "Transformer", "--json").stdout)
    assert [s["concept"] for s in override["steps"]] == ["BERT"]


def test_path_markdown_is_a_checklist_linking_to_the_notes(ws):
    result = run(ws, "path", "Transformer", "--format", "markdown")
    assert result.exit_code == 0, result.output
    items = [line for line in result.stdout.splitlines() if line.startswith("- [ ] ")]
    assert items[-1].startswith("- [ ] **Transformer** — your goal")
    assert "[notes.md § Transformer (lines 120–128)](notes.md#L120-L128)" in items[-1]
    assert "## Foundations" in result.stdout and "300 CJK" in result.stdout


def test_path_text_and_errors(ws):
    result = run(ws, "path", "BERT")
    assert result.exit_code == 0 and "Transformer" in result.stdout
    assert run(ws, "path", "量子计算机理论").exit_code == 5
    assert run(ws, "path").exit_code == 5  # no goal given and none saved
    assert run(ws, "path", "BERT", "--format", "pdf").exit_code == 5


def test_profile_commands_resolve_names_and_persist(ws):
    assert run(ws, "profile", "know", "math", "Python").exit_code == 0
    assert run(ws, "profile", "goal", "attention mechanism").exit_code == 0
    assert run(ws, "profile", "unknow", "线性代数").exit_code == 0
    assert load_profile(ws) == Profile(known=["数学基础", "Python编程"], not_known=["线性代数"], goals=["注意力机制"])
    bad = run(ws, "profile", "know", "量子计算机理论")
    assert bad.exit_code == 5 and "Nothing was saved" in bad.output
    shown = json.loads(run(ws, "profile", "show", "--json").stdout)
    assert shown["goals"] == ["注意力机制"] and shown["known_with_implied"] == 5  # 数学基础 概率论 Python编程 NumPy 数据结构
    assert run(ws, "profile", "drop", "注意力机制").exit_code == 0
    assert load_profile(ws).goals == []


def test_next_ranks_by_goals_from_the_profile(ws):
    save_profile(ws, Profile(known=["数学基础", "Python编程"], goals=["BERT", "LoRA"]))
    items = json.loads(run(ws, "next", "--json").stdout)
    assert items[0]["concept"] == "神经网络" and set(items[0]["unlocks"]) == {"BERT", "LoRA"}
    text = run(ws, "next", "--goal", "BERT")
    assert text.exit_code == 0 and "神经网络" in text.stdout


def test_profile_show_works_before_any_ingest(clean_env):
    root = clean_env / "empty"
    save_profile(Workspace(root), Profile(goals=["LoRA"]))
    result = CliRunner().invoke(app, ["profile", "show", "--json", "--workspace", str(root)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"known": [], "not_known": [], "goals": ["LoRA"], "known_with_implied": None}
    know = CliRunner().invoke(app, ["profile", "know", "LoRA", "--workspace", str(root)])
    assert know.exit_code == 3 and "studygraph ingest" in know.output

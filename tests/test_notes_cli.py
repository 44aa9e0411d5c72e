"""`studygraph notes`, `remove`, piped `concepts` and a quiet `ingest --json`, through the CLI runner.

The real pipeline writes every workspace; the FakeEmbedder (named like the configured model) sits at the seam.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest import FIXTURE_NOTES, FakeEmbedder
from ingest.catalog import select_notes
from ingest.pipeline import NoteState
from robust_helpers import check_consistent, chunk_keys, graph_keys
from studygraph.errors import InputError
from studygraph.records import NoteFile
from studygraph.workspace import Workspace
from ui.cli import app

REMOVED = "03-transformers.md"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> CliRunner:
    import ingest.pipeline
    import retrieval.embedders

    for module in (ingest.pipeline, retrieval.embedders):
        monkeypatch.setattr(module, "build_embedder", lambda settings: FakeEmbedder(name=settings.model))
    return CliRunner()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(FIXTURE_NOTES, folder)
    return folder


@pytest.fixture
def ws(runner: CliRunner, notes: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    result = runner.invoke(app, ["ingest", str(notes), "-w", str(root), "--json"])
    assert result.exit_code == 0, result.output
    return root


def invoke(runner: CliRunner, ws: Path, *args: str):
    return runner.invoke(app, [*args, "-w", str(ws)])


def as_json(runner: CliRunner, ws: Path, *args: str):
    result = invoke(runner, ws, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def search_sources(runner: CliRunner, ws: Path, query: str) -> set[str]:
    result = invoke(runner, ws, "search", query, "--k", "20", "--json")
    assert result.exit_code == 0, result.output
    return {hit["source"] for hit in json.loads(result.stdout)["hits"]}


def concepts_by_source(ws: Path) -> dict[str, set[str]]:
    """Concept names whose every source is the given file."""
    only: dict[str, set[str]] = {}
    for node in Workspace(ws).snapshot().read_json("graph.json")["nodes"]:
        sources = set(node["sources"])
        if len(sources) == 1:
            only.setdefault(sources.pop(), set()).add(node["name"])
    return only


def test_notes_lists_each_ingested_file(runner, ws, notes):
    listed = as_json(runner, ws, "notes")
    assert [n["source"] for n in listed] == sorted(p.name for p in FIXTURE_NOTES.glob("*.md"))
    by_name = {n["source"]: n for n in listed}
    chunks = {}
    for row in Workspace(ws).snapshot().read_jsonl("chunks.jsonl"):
        chunks[row["source"]] = chunks.get(row["source"], 0) + 1
    assert {s: n["chunks"] for s, n in by_name.items()} == chunks
    assert by_name[REMOVED]["path"] == str(notes / REMOVED) and by_name[REMOVED]["ingested"].startswith("20")
    assert by_name[REMOVED]["repairs"] == [] and by_name[REMOVED]["encoding"]


def test_notes_piped_prints_one_plain_row_a_note(runner, ws):
    result = invoke(runner, ws, "notes")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and len(rows) == 4 and {len(r) for r in rows} == {5}
    assert rows[2][0] == REMOVED and int(rows[2][1]) > 0 and rows[2][4].endswith(REMOVED)


def test_remove_retracts_chunks_vectors_and_concepts_but_not_the_file(runner, ws, notes):
    before_sources = search_sources(runner, ws, "LoRA 低秩矩阵 微调 BERT")
    assert REMOVED in before_sources
    only_removed = concepts_by_source(ws)[REMOVED]
    assert "LoRA" in only_removed
    file_hash = hashlib.sha256((notes / REMOVED).read_bytes()).hexdigest()
    generation = Workspace(ws).read_manifest().generation

    report = as_json(runner, ws, "remove", REMOVED)
    assert report["removed"] == [REMOVED] and report["chunks_removed"] > 0 and report["notes"] == 3
    manifest = check_consistent(ws)
    assert manifest.generation == generation + 1
    assert all(source != REMOVED for source, _ in chunk_keys(ws))
    assert REMOVED not in search_sources(runner, ws, "LoRA 低秩矩阵 微调 BERT")
    # what only the removed note supported is gone; Transformer, also an item of a list in 02, stays
    others = "\n".join(p.read_text(encoding="utf-8") for p in notes.glob("*.md") if p.name != REMOVED)
    gone = {name for name in only_removed if name not in others}
    assert {"LoRA", "BERT", "GPT"} <= gone
    names = {c["name"] for c in as_json(runner, ws, "concepts")}
    assert not names & gone and {"Transformer", "注意力机制"} <= names
    assert invoke(runner, ws, "concept", "LoRA").exit_code == 5
    assert [n["source"] for n in as_json(runner, ws, "notes")] == ["01-math.md", "02-deep-learning.md",
                                                                   "04-english.md"]
    assert hashlib.sha256((notes / REMOVED).read_bytes()).hexdigest() == file_hash


def test_reingesting_a_removed_note_brings_back_the_same_workspace(runner, ws, notes):
    chunks, graph = chunk_keys(ws), graph_keys(ws)
    assert as_json(runner, ws, "remove", str(notes / REMOVED))["removed"] == [REMOVED]
    again = as_json(runner, ws, "ingest", str(notes))
    assert again["files"]["read"] == 1 and again["files"]["unchanged"] == 3
    assert sorted(chunk_keys(ws)) == sorted(chunks)
    assert sorted(graph_keys(ws)[0]) == sorted(graph[0]) and sorted(graph_keys(ws)[1]) == sorted(graph[1])
    assert REMOVED in search_sources(runner, ws, "LoRA 低秩矩阵 微调 BERT")


def test_remove_takes_folders_and_tells_what_it_did(runner, ws, notes):
    result = invoke(runner, ws, "remove", str(notes))
    assert result.exit_code == 0, result.output
    assert "4 notes" in result.stdout and "not touched" in result.stdout
    assert as_json(runner, ws, "notes") == [] and check_consistent(ws).counts["chunks"] == 0
    assert invoke(runner, ws, "search", "LoRA", "--json").exit_code == 0


def test_removing_what_is_not_ingested_is_one_error_and_changes_nothing(runner, ws, notes, tmp_path):
    generation = Workspace(ws).read_manifest().generation
    stray = tmp_path / "elsewhere.md"
    stray.write_text("# Elsewhere\n", encoding="utf-8")
    result = invoke(runner, ws, "remove", REMOVED, str(stray), "no-such-note.md")
    assert result.exit_code == 5 and "Traceback" not in result.output
    assert "elsewhere.md" in result.stderr and "no-such-note.md" in result.stderr and "Nothing was removed" in result.stderr
    assert Workspace(ws).read_manifest().generation == generation
    missing = invoke(runner, tmp_path / "no-ws", "remove", REMOVED)
    assert missing.exit_code == 3 and "No workspace" in missing.stderr


def test_concepts_piped_prints_one_tab_separated_line_a_concept(runner, ws):
    concepts = as_json(runner, ws, "concepts")
    result = invoke(runner, ws, "concepts")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == len(concepts) > 10
    rows = [line.split("\t") for line in lines]
    assert {len(r) for r in rows} == {4}
    assert [r[0] for r in rows] == [c["name"] for c in concepts]
    pca = next(r for r in rows if r[0] == "主成分分析")
    assert "PCA" in pca[1] and float(pca[3]) >= 0


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """stderr as a terminal: what the progress bars draw lands in the returned buffer."""
    import ui.cli_common

    buffer = io.StringIO()
    monkeypatch.setattr(ui.cli_common, "err_console", Console(file=buffer, force_terminal=True, width=100))
    return buffer


def test_ingest_draws_a_bar_per_stage_on_a_terminal_and_none_with_json(runner, notes, tmp_path, terminal):
    quiet = runner.invoke(app, ["ingest", str(notes), "-w", str(tmp_path / "a"), "--json"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and terminal.getvalue() == ""
    assert json.loads(quiet.stdout)["files"]["read"] == 4
    shown = runner.invoke(app, ["ingest", str(notes), "-w", str(tmp_path / "b")])
    assert shown.exit_code == 0, shown.output
    drawn = terminal.getvalue()
    for stage in ("Reading notes", "Embedding passages", "Lexical index", "Concept graph"):
        assert stage in drawn
    assert "4/4" in drawn


def test_notes_are_selected_by_name_file_or_folder(tmp_path: Path):
    def state(source: str, root: Path, kind: str = "folder") -> NoteState:
        return NoteState(NoteFile(source=source, sha256="0", size=1, encoding="utf-8"), str(root), [], [], kind)

    folder, single = tmp_path / "notes", tmp_path / "loose" / "todo.md"
    notes = {s: state(s, folder) for s in ("a.md", "sub/b.md", "sub/c.md", "subway.md")}
    notes["todo.md"] = state("todo.md", single, "file")
    assert select_notes(notes, ["a.md"]) == ["a.md"]
    assert select_notes(notes, ["sub"]) == ["sub/b.md", "sub/c.md"]  # a folder of names, not a prefix of one
    assert select_notes(notes, [folder / "sub" / "c.md", single]) == ["sub/c.md", "todo.md"]  # files need not exist
    assert select_notes(notes, [folder, "a.md"]) == ["a.md", "sub/b.md", "sub/c.md", "subway.md"]
    with pytest.raises(InputError, match="Not ingested in this workspace: nope.md, .*other.md"):
        select_notes(notes, ["a.md", "nope.md", tmp_path / "other.md"])

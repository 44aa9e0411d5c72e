from __future__ import annotations

import json
from pathlib import Path

import pytest

from studygraph.errors import WorkspaceError
from studygraph.workspace import MANIFEST, Workspace, atomic_write_text, write_jsonl


def _build(ws: Workspace, chunks: list[dict], embedder: str = "fake:e", dim: int = 8) -> None:
    with ws.lock(), ws.transaction() as tx:
        write_jsonl(tx.path("chunks.jsonl"), chunks)
        (tx.path("lexical/vocab.json")).write_text(json.dumps({"a": 1}))
        tx.commit(embedder={"name": embedder, "dim": dim}, counts={"chunks": len(chunks)})


def test_manifest_round_trip(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    assert not ws.exists()
    _build(ws, [{"id": "c1", "text": "注意力机制"}, {"id": "c2", "text": "LoRA"}])
    m = ws.read_manifest()
    assert m.schema_version == 1 and m.generation == 1
    assert m.embedder == {"name": "fake:e", "dim": 8} and m.counts == {"chunks": 2}
    assert set(m.files) == {"chunks.jsonl", "lexical/vocab.json"}
    assert m.created and m.updated
    snap = ws.snapshot(embedder="fake:e", dim=8)
    assert [r["text"] for r in snap.read_jsonl("chunks.jsonl")] == ["注意力机制", "LoRA"]
    assert snap.path("lexical").is_dir()


def test_new_generation_replaces_old_and_carries_components(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _build(ws, [{"id": "c1"}])
    with ws.lock(), ws.transaction() as tx:
        assert tx.carry("lexical")
        write_jsonl(tx.path("chunks.jsonl"), [{"id": "c1"}, {"id": "c3"}])
        tx.commit(counts={"chunks": 2})
    m = ws.read_manifest()
    assert m.generation == 2 and m.embedder["name"] == "fake:e"
    snap = ws.snapshot()
    assert [r["id"] for r in snap.read_jsonl("chunks.jsonl")] == ["c1", "c3"]
    assert json.loads((snap.path("lexical") / "vocab.json").read_text()) == {"a": 1}


def test_refuses_other_embedder_with_rebuild_command(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _build(ws, [{"id": "c1"}])
    with pytest.raises(WorkspaceError, match="built with embedder 'fake:e'.*studygraph ingest"):
        ws.snapshot(embedder="BAAI/bge-m3")
    with pytest.raises(WorkspaceError, match="8-d vectors.*384-d"):
        ws.snapshot(embedder="fake:e", dim=384)


def test_refuses_other_schema_version(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _build(ws, [{"id": "c1"}])
    raw = json.loads(ws.manifest_path.read_text())
    raw["schema_version"] = 99
    ws.manifest_path.write_text(json.dumps(raw))
    with pytest.raises(WorkspaceError, match="schema version 99.*studygraph ingest"):
        ws.snapshot()


def test_missing_workspace_says_how_to_ingest(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="No workspace at .*studygraph ingest"):
        Workspace(tmp_path / "nothing").snapshot()


def test_edited_component_is_detected(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _build(ws, [{"id": "c1"}])
    snap = ws.snapshot()
    (snap.dir / "chunks.jsonl").write_text('{"id": "tampered"}\n')
    with pytest.raises(WorkspaceError, match="chunks.jsonl is missing or corrupted"):
        ws.snapshot().path("chunks.jsonl")


def test_crash_inside_transaction_keeps_previous_generation(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _build(ws, [{"id": "old"}])
    with pytest.raises(RuntimeError), ws.lock(), ws.transaction() as tx:
        write_jsonl(tx.path("chunks.jsonl"), [{"id": "new"}])
        raise RuntimeError("killed before commit")
    snap = ws.snapshot()
    assert snap.manifest.generation == 1
    assert [r["id"] for r in snap.read_jsonl("chunks.jsonl")] == ["old"]
    assert not (tmp_path / "ws" / "gen-000002").exists()


def test_atomic_write_failure_leaves_previous_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "profile.json"
    atomic_write_text(target, "version one")

    def exploding_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("studygraph.workspace.os.replace", exploding_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "version two, half written")
    assert target.read_text() == "version one"
    assert [p.name for p in tmp_path.iterdir()] == ["profile.json"]  # no temp file left behind


def test_second_writer_is_refused_with_message(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with ws.lock(), pytest.raises(WorkspaceError, match="being written by another"):
        with Workspace(tmp_path / "ws").lock(timeout=0.1):
            pass


def test_manifest_written_last(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with ws.lock(), ws.transaction() as tx:
        write_jsonl(tx.path("chunks.jsonl"), [{"id": "x"}])
        assert not (tmp_path / "ws" / MANIFEST).exists()
        tx.commit()
    assert (tmp_path / "ws" / MANIFEST).exists()

"""`studygraph ingest` through typer's CliRunner, with the fake embedder at the seam."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FIXTURE_NOTES, FakeEmbedder
from ui.cli import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> CliRunner:
    import ingest.pipeline

    monkeypatch.setattr(ingest.pipeline, "build_embedder", lambda settings: FakeEmbedder())
    return CliRunner()


def test_ingest_json_then_unchanged(runner: CliRunner, tmp_path: Path):
    notes = tmp_path / "notes"
    shutil.copytree(FIXTURE_NOTES, notes)
    args = ["ingest", str(notes), "--workspace", str(tmp_path / "ws"), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert set(data) == {"workspace", "files", "sections", "chunks", "concepts", "edges", "seconds"}
    assert data["files"] == {"read": 4, "unchanged": 0, "skipped": [], "repaired": []} and data["chunks"] > 4
    second = json.loads(runner.invoke(app, args).stdout)
    assert second["files"]["unchanged"] == 4 and second["chunks"] == data["chunks"]
    rebuilt = json.loads(runner.invoke(app, [*args, "--rebuild"]).stdout)
    assert rebuilt["files"]["read"] == 4


def test_ingest_table_lists_skipped_files(runner: CliRunner, tmp_path: Path):
    notes = tmp_path / "notes"
    shutil.copytree(FIXTURE_NOTES, notes)
    (notes / "zero.md").write_bytes(b"")
    result = runner.invoke(app, ["ingest", str(notes), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "files read" in result.stdout and "zero.md" in result.stdout and "empty" in result.stdout


def test_nothing_ingested_exits_non_zero_with_one_message(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing"), "-w", str(tmp_path / "ws"), "--json"])
    assert result.exit_code == 5
    assert result.stdout == "" and "does not exist" in result.stderr and "Traceback" not in result.output

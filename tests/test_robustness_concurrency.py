"""Writers and readers at once: the writer lock between ingest processes, snapshots for readers."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.service import StudyService
from conftest import FakeEmbedder
from ingest.pipeline import ingest_paths
from robust_helpers import (
    PYTHON,
    assert_one_clear_error,
    check_consistent,
    chunk_keys,
    copy_notes,
    fake_cli,
    subprocess_env,
    use_fake_embedder,
)
from studygraph.errors import WorkspaceError
from studygraph.settings import Settings
from studygraph.workspace import Workspace

MODEL = Settings().embedder.model


@pytest.mark.slow
def test_two_ingest_processes_at_once_take_turns(tmp_path: Path):
    """Both start together: one writes; the other waits for the lock and then finds nothing left to do (or,
    if the wait runs out on a very slow machine, is refused with a message). Never two writers at once."""
    notes = copy_notes(tmp_path / "notes")
    ws = tmp_path / "ws"
    argv = fake_cli("ingest", str(notes), "-w", str(ws), "--json")
    procs = [subprocess.Popen(argv, cwd=tmp_path, env=subprocess_env(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            files = json.loads(out)["files"]
            outcomes.append("wrote" if (files["read"], files["unchanged"]) == (4, 0) else
                            "waited" if (files["read"], files["unchanged"]) == (0, 4) else f"odd {files}")
        else:
            assert_one_clear_error(proc.returncode, err, "being written by another studygraph process")
            outcomes.append("refused")
    assert sorted(outcomes) in (["waited", "wrote"], ["refused", "wrote"]), outcomes
    assert check_consistent(ws).generation == 1


_HOLD_LOCK = """
import sys, time
sys.path.insert(0, {repo!r})
from studygraph.workspace import Workspace
with Workspace({ws!r}).lock():
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_writer_that_cannot_get_the_lock_is_refused_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     clean_env: Path):
    """Another process holds the workspace; after the wait runs out the ingest says so and changes nothing.
    When that process dies (even by SIGKILL) its lock goes with it."""
    import ingest.pipeline
    from conftest import REPO
    from ui.cli import app

    notes = copy_notes(tmp_path / "notes")
    ws = tmp_path / "ws"
    ingest_paths([notes], Settings(workspace=ws), FakeEmbedder(name=MODEL))
    before = Workspace(ws).read_manifest()
    (notes / "05-new.md").write_text("# Adam\n\nAdam adapts the learning rate per parameter.\n", encoding="utf-8")
    holder = subprocess.Popen([str(PYTHON), "-c", _HOLD_LOCK.format(repo=str(REPO), ws=str(ws))],
                              stdout=subprocess.PIPE, text=True, env=subprocess_env(tmp_path))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        use_fake_embedder(monkeypatch)
        monkeypatch.setattr(ingest.pipeline, "LOCK_TIMEOUT_S", 0.5)
        result = CliRunner().invoke(app, ["ingest", str(notes), "--workspace", str(ws)])
        assert_one_clear_error(result.exit_code, result.output, "being written by another studygraph process")
        assert result.exit_code == 3
        assert Workspace(ws).read_manifest() == before
    finally:
        holder.kill()
        holder.wait()
    result = CliRunner().invoke(app, ["ingest", str(notes), "--workspace", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    assert check_consistent(ws).generation == before.generation + 1


def _note_sets(tmp_path: Path) -> list[Path]:
    """Three folders of notes, each ingested in turn into the same workspace name (the same root path)."""
    base = copy_notes(tmp_path / "base")
    variants = []
    for i in range(3):
        folder = tmp_path / f"variant-{i}"
        shutil.copytree(base, folder)
        for j in range(i * 3):
            (folder / f"extra-{j}.md").write_text(f"# Extra {j}\n\nExtra note {j} about attention heads "
                                                  f"and residual connections, variant {i}.\n", encoding="utf-8")
        if i == 2:
            (folder / "01-math.md").unlink()
        variants.append(folder)
    return variants


def _read_one_generation(settings: Settings, embedder: FakeEmbedder) -> int:
    """Open the workspace as the app does and check that everything it reads belongs to one generation."""
    service = StudyService(settings, embedder=embedder)
    manifest = service.snapshot.manifest
    counts = manifest.counts
    chunks = service.chunks
    assert len(chunks) == counts["chunks"], "chunks of another generation"
    assert len(service.graph) == counts["concepts"], "graph of another generation"
    hits = service.searcher.search("attention residual connections")
    assert hits and all(h.chunk.id in chunks for h in hits), "index of another generation"
    assert len(service.searcher.vectors) == counts["chunks"], "vector index of another generation"
    return manifest.generation


@pytest.mark.slow
def test_readers_never_see_a_mix_of_versions_while_a_writer_commits(tmp_path: Path):
    """Reader threads open snapshots in a loop, as the app does on every rerun, while a writer commits
    generation after generation; each read must be one whole generation."""
    variants = _note_sets(tmp_path)
    settings = Settings(workspace=tmp_path / "ws")
    embedder = FakeEmbedder(name=MODEL)
    live = tmp_path / "live"
    shutil.copytree(variants[0], live)
    ingest_paths([live], settings, embedder)
    stop, errors, seen = threading.Event(), [], set()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add(_read_one_generation(settings, embedder))
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                errors.append(exc)
                stop.set()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(8):
            if stop.is_set():
                break
            shutil.rmtree(live)
            shutil.copytree(variants[(round_ + 1) % len(variants)], live)
            ingest_paths([live], settings, embedder)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, f"a reader failed: {errors[0]!r}"
    assert len(seen) >= 3, f"readers saw only generations {sorted(seen)}; the test did not overlap"
    check_consistent(settings.workspace)
    assert chunk_keys(settings.workspace)


def test_a_reader_outlived_by_two_commits_is_told_to_read_again(tmp_path: Path):
    """A reader that opened generation 1 and reads on after two commits (generation 1 is collected then)
    gets a message to run the command again, not a false report of damage and a needless rebuild."""
    variants = _note_sets(tmp_path)
    live = tmp_path / "live"
    shutil.copytree(variants[0], live)
    settings, embedder = Settings(workspace=tmp_path / "ws"), FakeEmbedder(name=MODEL)
    ingest_paths([live], settings, embedder)
    reader = StudyService(settings, embedder=embedder)
    assert reader.snapshot.manifest.generation == 1
    for variant in variants[1:]:
        shutil.rmtree(live)
        shutil.copytree(variant, live)
        ingest_paths([live], settings, embedder)
    with pytest.raises(WorkspaceError, match="updated while it was being read") as caught:
        reader.chunks  # noqa: B018
    assert "--rebuild" not in str(caught.value)
    assert _read_one_generation(settings, embedder) == 3  # a new reader reads the new generation

"""A workspace survives crashes and says clearly when it is damaged: kill points, SIGKILL, corrupted files."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
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
    real_cli,
    subprocess_env,
    use_fake_embedder,
    wide_console,
)
from studygraph.errors import WorkspaceError
from studygraph.settings import Settings
from studygraph.workspace import MANIFEST, Workspace

MODEL = Settings().embedder.model  # the fake embedder takes the configured name, so the CLI accepts the workspace
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill-point sweep forks its writers")


def _fake() -> FakeEmbedder:
    return FakeEmbedder(name=MODEL)


def _edit_notes(folder: Path, round_: int) -> None:
    """Change the notes so that the next ingest has real work: an edited note, a new one, a deleted one."""
    edited = folder / "02-deep-learning.md"
    edited.write_text(edited.read_text(encoding="utf-8") + f"\n\n## Round {round_}\n\nDropout round {round_} "
                      f"randomly zeroes activations during training.\n", encoding="utf-8")
    (folder / f"new-{round_}.md").write_text(f"# Momentum {round_}\n\nMomentum keeps a running average of "
                                             f"gradients; round {round_}.\n", encoding="utf-8")
    old = folder / f"new-{round_ - 1}.md"
    old.unlink(missing_ok=True)


def _reference_keys(folder: Path, scratch: Path) -> list[tuple[str, str]]:
    """Chunk keys of a clean ingest of the folder's current contents (the complete version a crash may reach)."""
    copy = scratch / "notes"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(folder, copy)
    ingest_paths([copy], Settings(workspace=scratch / "ws"), _fake())
    return chunk_keys(scratch / "ws")


# --------------------------------------------------------------------------- a crash at every write


_CRASH_SERVER = """
import json, os, shutil, sys
sys.path[:0] = [{repo!r}, {tests!r}]
from robust_helpers import crash_child, warm_up
base, notes, out, points = {base!r}, {notes!r}, {out!r}, {points!r}
warm_up(notes, os.path.join(out, "warm-up"))  # every child is a fork of this warmed-up process
results = {{}}
for k in points:
    ws = os.path.join(out, f"k{{k:05d}}")
    shutil.copytree(base, ws)
    pid = os.fork()
    if pid == 0:
        crash_child(k, notes, ws)
    _, status = os.waitpid(pid, 0)
    results[k] = os.waitstatus_to_exitcode(status)
print(json.dumps(results))
"""


def _crash_sweep(base: Path, notes: Path, out: Path, points: list[int]) -> dict[int, int]:
    """Fork an ingest of `notes` into a copy of `base` per kill point; the child dies before its k-th write."""
    from conftest import REPO, TESTS

    out.mkdir(parents=True, exist_ok=True)
    script = _CRASH_SERVER.format(repo=str(REPO), tests=str(TESTS), base=str(base), notes=str(notes), out=str(out), points=points)
    done = subprocess.run([str(PYTHON), "-c", script], env=subprocess_env(out), capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def _count_writes(base: Path, notes: Path, out: Path) -> int:
    """How many writes a complete ingest of `notes` into a copy of `base` makes."""
    assert _crash_sweep(base, notes, out, [10**9]) == {10**9: 0}
    return int((out / f"k{10**9:05d}.writes").read_text())


@pytest.mark.slow
@needs_fork
def test_a_crash_before_any_write_leaves_the_last_complete_generation(tmp_path: Path):
    """The writer is killed just before one of its file-system writes (opens for writing, fsync, rename, link,
    delete), for points spread over the whole ingest; every time, the workspace is the old version or the
    new one, whole, and the next ingest finishes the job."""
    notes = copy_notes(tmp_path / "notes")
    base = tmp_path / "base"
    ingest_paths([notes], Settings(workspace=base), _fake())
    old_keys = chunk_keys(base)
    _edit_notes(notes, 1)
    (notes / "04-english.md").unlink()
    new_keys = _reference_keys(notes, tmp_path / "reference")
    writes = _count_writes(base, notes, tmp_path / "count")
    assert writes > 20, "an ingest makes dozens of writes; the counting hooks missed them"
    # A spread over the whole run (a different offset each time, so CI runs cover every point over time),
    # and every one of the last writes, where the commit and the clean-up happen.
    offset = random.randrange(1, writes // 6 + 1)
    points = sorted(set(range(offset, writes - 8, max(1, writes // 6))) | set(range(writes - 8, writes + 1)))
    results = _crash_sweep(base, notes, tmp_path / "sweep", points)
    seen = {"old": 0, "new": 0}
    for k in points:
        ws = tmp_path / "sweep" / f"k{k:05d}"
        assert results[k] == 137, f"kill point {k}: child ended with {results[k]} instead of being killed"
        manifest = check_consistent(ws)
        keys = chunk_keys(ws)
        assert keys in (old_keys, new_keys), f"kill point {k}: a mix of versions"
        assert (manifest.generation == 1) == (keys == old_keys), f"kill point {k}: generation disagrees"
        seen["old" if keys == old_keys else "new"] += 1
        ingest_paths([notes], Settings(workspace=ws), _fake())  # the next ingest recovers
        check_consistent(ws)
        assert chunk_keys(ws) == new_keys, f"kill point {k}: recovery did not reach the new version"
        leftovers = sorted(p.name for p in ws.iterdir() if p.name.endswith(".tmp"))
        assert not leftovers, f"kill point {k}: temporary files left behind: {leftovers}"
    assert seen["old"] and seen["new"], seen  # the sweep reached both sides of the commit


# --------------------------------------------------------------------------- SIGKILL of a real process


def _sigkill_rounds(tmp_path: Path, argv_for: Callable[[Path, Path], list[str]], rounds: int, seed: int) -> None:
    notes = copy_notes(tmp_path / "notes")
    ws = tmp_path / "ws"
    rng = random.Random(seed)
    started = time.perf_counter()
    first = subprocess.run(argv_for(notes, ws), cwd=tmp_path, env=subprocess_env(tmp_path), capture_output=True,
                           text=True, timeout=600, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    full = time.perf_counter() - started
    versions = [chunk_keys(ws)]
    kills = 0
    for round_ in range(1, rounds + 1):
        _edit_notes(notes, round_)
        versions.append(_reference_keys(notes, tmp_path / f"ref-{round_}"))
        delay = rng.uniform(0.3 * full, 1.1 * full)  # the first third is mostly interpreter start-up
        proc = subprocess.Popen(argv_for(notes, ws), cwd=tmp_path, env=subprocess_env(tmp_path),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        where = f"seed {seed}, round {round_}, killed after {delay:.2f}s of a {full:.2f}s run"
        check_consistent(ws)
        # An earlier round's version is also complete: a killed round may leave the one before it.
        assert chunk_keys(ws) in versions, f"a mix of versions ({where})"
    assert kills, "no round was killed: the delays are too long for this machine"
    done = subprocess.run(argv_for(notes, ws), cwd=tmp_path, env=subprocess_env(tmp_path), capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    check_consistent(ws)
    assert chunk_keys(ws) == versions[-1]


@pytest.mark.slow
def test_sigkill_of_studygraph_ingest_at_random_times_never_leaves_a_half_state(tmp_path: Path):
    """`studygraph ingest` (its own process, the fake embedder at the seam) is SIGKILLed at random moments."""
    seed = random.randrange(1 << 30)
    _sigkill_rounds(tmp_path, lambda notes, ws: fake_cli("ingest", str(notes), "-w", str(ws), "--json"),
                    rounds=6, seed=seed)


@pytest.mark.slow
def test_sigkill_of_the_real_studygraph_command_never_leaves_a_half_state(tmp_path: Path):
    """The installed console script with the real bundled embedder, SIGKILLed at random moments."""
    seed = random.randrange(1 << 30)
    _sigkill_rounds(tmp_path, lambda notes, ws: real_cli("ingest", str(notes), "-w", str(ws), "--json"),
                    rounds=3, seed=seed)


@pytest.mark.slow
@needs_fork
def test_a_first_ingest_killed_near_its_commit_is_absent_or_whole(tmp_path: Path):
    """Killed around its first commit, a new workspace either does not exist yet (and says how to build it)
    or is complete."""
    notes = copy_notes(tmp_path / "notes")
    empty = tmp_path / "empty"
    empty.mkdir()
    writes = _count_writes(empty, notes, tmp_path / "count")
    points = list(range(max(1, writes - 15), writes + 1))
    results = _crash_sweep(empty, notes, tmp_path / "sweep", points)
    outcomes = set()
    for k in points:
        ws = tmp_path / "sweep" / f"k{k:05d}"
        assert results[k] == 137, f"kill point {k}: ended with {results[k]}"
        if Workspace(ws).exists():
            check_consistent(ws)
            outcomes.add("whole")
        else:
            with pytest.raises(WorkspaceError, match="run `studygraph ingest NOTES"):
                StudyService(Settings(workspace=ws), embedder=_fake()).snapshot  # noqa: B018
            outcomes.add("absent")
    assert outcomes == {"whole", "absent"}


# --------------------------------------------------------------------------- corruption


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("built")
    notes = copy_notes(root / "notes")
    ingest_paths([notes], Settings(workspace=root / "ws"), _fake())
    return root


def _truncate_faiss(ws: Path) -> str:
    path = Workspace(ws).snapshot().dir / "faiss.index"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return "faiss.index"


def _edit_graph(ws: Path) -> str:
    path = Workspace(ws).snapshot().dir / "graph.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["nodes"][0]["name"] = "Injected concept"
    path.write_text(json.dumps(data), encoding="utf-8")
    return "graph.json"


def _break_graph_json(ws: Path) -> str:
    path = Workspace(ws).snapshot().dir / "graph.json"
    path.write_text(path.read_text(encoding="utf-8")[:100], encoding="utf-8")
    return "graph.json"


def _other_embedder(ws: Path) -> str:
    _edit_manifest(ws, embedder={"name": "intfloat/multilingual-e5-small", "dim": 384})
    return "intfloat/multilingual-e5-small"


def _other_schema(ws: Path) -> str:
    _edit_manifest(ws, schema_version=99)
    return "schema version 99"


def _truncated_manifest(ws: Path) -> str:
    path = ws / MANIFEST
    path.write_text(path.read_text(encoding="utf-8")[:50], encoding="utf-8")
    return MANIFEST


def _missing_chunks(ws: Path) -> str:
    (Workspace(ws).snapshot().dir / "chunks.jsonl").unlink()
    return "chunks.jsonl"


def _missing_generation(ws: Path) -> str:
    shutil.rmtree(Workspace(ws).snapshot().dir)
    return "incomplete"


def _edit_manifest(ws: Path, **fields: object) -> None:
    path = ws / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(fields)
    path.write_text(json.dumps(data), encoding="utf-8")


CORRUPTIONS = {
    "truncated faiss.index": _truncate_faiss,
    "edited graph.json": _edit_graph,
    "graph.json not JSON": _break_graph_json,
    "manifest of another embedder": _other_embedder,
    "manifest of another schema": _other_schema,
    "truncated manifest": _truncated_manifest,
    "chunks.jsonl deleted": _missing_chunks,
    "generation directory deleted": _missing_generation,
}


@pytest.fixture(params=sorted(CORRUPTIONS))
def corrupted(request: pytest.FixtureRequest, built: Path, tmp_path: Path) -> tuple[Path, Path, str]:
    """(workspace, notes, what the error must name) for one kind of damage, on a private copy."""
    shutil.copytree(built, tmp_path / "copy")
    ws = tmp_path / "copy" / "ws"
    names = CORRUPTIONS[request.param](ws)
    return ws, tmp_path / "copy" / "notes", names


def _read_everything(ws: Path) -> None:
    from assistant.answer import AnswerParams

    service = StudyService(Settings(workspace=ws), embedder=_fake())
    service.searcher.search("LoRA low-rank adaptation")
    service.graph  # noqa: B018
    service.assistant.ask("What is LoRA?", AnswerParams(use_llm=False))


def test_study_service_names_the_damaged_file_and_the_rebuild_command(corrupted: tuple[Path, Path, str]):
    ws, _, names = corrupted
    with pytest.raises(WorkspaceError) as caught:
        _read_everything(ws)
    message = str(caught.value)
    assert names in message and f"studygraph ingest NOTES... --workspace {ws} --rebuild" in message, message


# Commands that never open a component cannot notice its damage (the next command that does will).
NOT_USED = {("faiss.index", "concept"), ("faiss.index", "path")}


@pytest.mark.parametrize("argv", [
    ["search", "LoRA low-rank adaptation"],
    ["ask", "--no-llm", "What is LoRA?"],
    ["concept", "LoRA"],
    ["path", "LoRA"],
], ids=lambda a: a[0])
def test_cli_commands_report_damage_in_one_message(corrupted: tuple[Path, Path, str], argv: list[str],
                                                   monkeypatch: pytest.MonkeyPatch, clean_env: Path,
                                                   caplog: pytest.LogCaptureFixture):
    """Either one error naming the damaged file and the rebuild command, or (when the command can work
    without the damaged part, as search without the concept graph) a warning that says the same."""
    ws, _, names = corrupted
    use_fake_embedder(monkeypatch)
    wide_console(monkeypatch)
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(_app(), [*argv, "--workspace", str(ws)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert (names, argv[0]) in NOT_USED or any(names in w and "--rebuild" in w for w in warned), \
            f"{argv[0]} worked on a damaged workspace ({names}) without a word: {result.output}"
        return
    assert_one_clear_error(result.exit_code, result.output, "--rebuild", names)


def test_rebuild_repairs_every_kind_of_damage(corrupted: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch,
                                              clean_env: Path):
    ws, notes, _ = corrupted
    use_fake_embedder(monkeypatch)
    result = CliRunner().invoke(_app(), ["ingest", str(notes), "--workspace", str(ws), "--rebuild", "--json"])
    assert result.exit_code == 0, result.output
    check_consistent(ws)
    _read_everything(ws)


def _app():  # noqa: ANN202 - the typer app, imported late so the CLI modules of other helpers may still be missing
    from ui.cli import app

    return app


def test_no_workspace_says_to_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: Path):
    use_fake_embedder(monkeypatch)
    result = CliRunner().invoke(_app(), ["search", "LoRA", "--workspace", str(tmp_path / "nothing")])
    assert_one_clear_error(result.exit_code, result.output, "studygraph ingest")
    assert not (tmp_path / "nothing").exists(), "a reader must not create the workspace"


def test_interrupted_rebuild_keeps_the_old_generation_readable(built: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    """An exception in the middle of writing (here: the graph builder fails) publishes nothing."""
    import ingest.pipeline

    shutil.copytree(built, tmp_path / "copy")
    ws, notes = tmp_path / "copy" / "ws", tmp_path / "copy" / "notes"
    before = Workspace(ws).read_manifest()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest.pipeline, "_build_graph", broken)
    with pytest.raises(OSError):
        ingest_paths([notes], Settings(workspace=ws), _fake(), rebuild=True)
    assert Workspace(ws).read_manifest() == before
    check_consistent(ws)
    assert sorted(p.name for p in ws.iterdir() if p.name.startswith("gen-")) == [before.generation_dir]
    assert os.listdir(Workspace(ws).snapshot().dir)

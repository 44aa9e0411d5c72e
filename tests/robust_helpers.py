"""Shared helpers for the robustness tests: workspace consistency checks, CLI subprocesses, memory readings."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import FIXTURE_NOTES, REPO, TESTS, FakeEmbedder
from studygraph.settings import IngestSettings, Settings
from studygraph.workspace import Manifest, Workspace

PYTHON = Path(sys.executable)
CONSOLE_SCRIPT = PYTHON.parent / "studygraph"

# `studygraph` exactly as the console script runs it, with the FakeEmbedder at the embedder seam: a real
# process (its own interpreter, lock and files) that starts in a second instead of loading torch. The fake
# takes the configured embedder's name, so the workspace's embedder check passes as it would for the real one.
_FAKE_CLI = (
    "import sys; sys.path[:0] = [{repo!r}, {tests!r}]; "
    "from robust_helpers import use_fake_embedder; use_fake_embedder(); "
    "from ui.cli import main; sys.argv[0] = 'studygraph'; main()"
)


def use_fake_embedder(monkeypatch: Any = None) -> None:
    """Make every embedder the CLI or StudyService builds a FakeEmbedder named like the configured model."""
    import ingest.pipeline
    import retrieval.embedders

    def build(settings: Any) -> FakeEmbedder:
        return FakeEmbedder(name=settings.model)

    for module in (ingest.pipeline, retrieval.embedders):
        if monkeypatch is None:
            module.build_embedder = build  # type: ignore[attr-defined]
        else:
            monkeypatch.setattr(module, "build_embedder", build)


def fake_cli(*args: str) -> list[str]:
    """argv of a `studygraph` subprocess that embeds with the FakeEmbedder."""
    return [str(PYTHON), "-c", _FAKE_CLI.format(repo=str(REPO), tests=str(TESTS)), *args]


def real_cli(*args: str) -> list[str]:
    """argv of the installed `studygraph` console script (real bundled embedder)."""
    return [str(CONSOLE_SCRIPT), *args]


def subprocess_env(cwd: Path) -> dict[str, str]:
    """The environment for a CLI subprocess: no STUDYGRAPH_* settings, offline, narrow output never wraps paths."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYGRAPH_")}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               COLUMNS="400", NO_COLOR="1", OMP_NUM_THREADS="1", PWD=str(cwd), PYTHONHASHSEED="0")
    return env


def run_cli(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=subprocess_env(cwd), capture_output=True, text=True,
                          timeout=timeout, check=False)


def copy_notes(target: Path) -> Path:
    """A private copy of the fixture notes (4 tiny zh/en notes)."""
    shutil.copytree(FIXTURE_NOTES, target)
    return target


def settings_for(workspace: Path, **ingest: Any) -> Settings:
    return Settings(workspace=workspace, ingest=IngestSettings(**ingest))


def check_consistent(root: Path) -> Manifest:
    """Assert that the workspace's manifest names one whole, undamaged generation, and return the manifest.

    Every file the manifest lists has its recorded checksum, nothing else is in the generation, and the
    counts agree with the files: chunks.jsonl, sections.jsonl, files.json, the vector ids, graph.json.
    """
    workspace = Workspace(root)
    manifest = workspace.read_manifest()
    snapshot = workspace.snapshot()
    for name in manifest.files:
        snapshot.path(name)  # verifies size and sha256
    on_disk = {p.relative_to(snapshot.dir).as_posix() for p in snapshot.dir.rglob("*") if p.is_file()}
    assert on_disk == set(manifest.files), f"generation holds files the manifest does not name: {on_disk ^ set(manifest.files)}"
    counts = manifest.counts
    chunk_ids = [row["id"] for row in snapshot.read_jsonl("chunks.jsonl")]
    assert len(chunk_ids) == counts["chunks"] == len(set(chunk_ids)), "chunk count or duplicate chunk ids"
    assert sum(1 for _ in snapshot.read_jsonl("sections.jsonl")) == counts["sections"]
    assert len(snapshot.read_json("files.json")["files"]) == counts["files"]
    assert sorted(json.loads(snapshot.path("vectors/ids.json").read_text("utf-8"))) == sorted(chunk_ids)
    if snapshot.has("graph.json"):
        concepts, edges = graph_keys(root)
        assert len(concepts) == counts["concepts"] == len(set(concepts)), "concept count or duplicate concepts"
        assert len(edges) == len(set(edges)), "duplicate edges"
        assert dict(Counter(t for _, _, t in edges)) == {t: n for t, n in counts["edges"].items() if n}
    return manifest


def graph_keys(root: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Concept ids and (source, target, type) of every edge of the current generation's graph."""
    data = Workspace(root).snapshot().read_json("graph.json")
    return [n["id"] for n in data["nodes"]], [(e["source"], e["target"], e["type"]) for e in data["links"]]


def chunk_keys(root: Path) -> list[tuple[str, str]]:
    """(source, text) of every chunk of the current generation."""
    return [(row["source"], row["text"]) for row in Workspace(root).snapshot().read_jsonl("chunks.jsonl")]


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """Output without colour codes and with rich's soft wrapping undone."""
    return " ".join(_ANSI.sub("", text).split())


def assert_one_clear_error(exit_code: int, output: str, *must_name: str) -> None:
    """A non-zero exit with one `Error:` message that names what it must, and no traceback."""
    text = plain(output)
    assert exit_code != 0, text
    assert "Traceback" not in output and "Error:" in text, text
    assert text.count("Error:") == 1, text
    for needle in must_name:
        assert needle in text, f"{needle!r} not in {text!r}"


def crash_child(kill_at: int, notes: str, workspace: str) -> None:
    """Run in a forked child: ingest `notes` into `workspace`, dying (exit 137) just before the k-th write.

    Writes are every open for writing, fsync, rename, hard link and tree removal. A run that finishes writes
    how many it made to `<workspace>.writes` and exits 0; any exception exits 1.
    """
    import builtins
    import io
    import shutil as shutil_module

    from ingest.pipeline import ingest_paths

    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        if count == kill_at:
            os._exit(137)

    def counted(fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tick()
            return fn(*args, **kwargs)
        return wrapper

    real_open = builtins.open

    def open_counted(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            tick()
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = open_counted  # pathlib writes through io.open
    for module, name in ((os, "replace"), (os, "rename"), (os, "link"), (os, "fsync"), (os, "unlink"),
                         (shutil_module, "rmtree"), (shutil_module, "copy2")):
        setattr(module, name, counted(getattr(module, name)))
    try:
        ingest_paths([notes], Settings(workspace=Path(workspace)), FakeEmbedder(name=Settings().embedder.model))
    except BaseException:  # noqa: BLE001 - any failure other than the planned kill is reported by exit code 1
        import traceback

        traceback.print_exc()
        os._exit(1)
    Path(f"{workspace}.writes").write_text(str(count))
    os._exit(0)


def wide_console(monkeypatch: Any) -> None:
    """Let the CLI's rich consoles print 400 columns under CliRunner, so long paths are not folded."""
    from ui.cli_common import console, err_console

    for con in (console, err_console):
        monkeypatch.setattr(con, "_width", 400)


def warm_up(notes: str, workspace: str) -> None:
    """One full ingest, so that forked children start with every module imported and every cache filled
    (single-threaded BLAS/OpenMP, see `subprocess_env`, keeps forking safe)."""
    from ingest.pipeline import ingest_paths

    ingest_paths([notes], Settings(workspace=Path(workspace)), FakeEmbedder(name=Settings().embedder.model))

"""Finding note files: suffixes, hidden folders, links, size limits, names relative to the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import CORPORA, CORPUS_NOTES, FIXTURE_NOTES
from ingest.sources import discover
from studygraph.settings import IngestSettings


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_folder_is_searched_recursively_for_note_suffixes(tmp_path: Path):
    _tree(tmp_path, {"a.md": "# A", "sub/b.markdown": "# B", "sub/deeper/c.TXT": "c", "img.png": "x",
                     ".hidden/h.md": "# H", ".git/x.md": "# X", "node_modules/pkg/readme.md": "# R",
                     "sub/.draft.md": "# D"})
    found, skipped = discover([tmp_path], IngestSettings())
    assert [f.source for f in found] == ["a.md", "sub/b.markdown", "sub/deeper/c.TXT"]
    assert all(f.root == tmp_path and f.path.is_file() for f in found)
    assert skipped == []


def test_single_file_is_named_by_its_file_name_and_other_suffixes_are_refused(tmp_path: Path):
    _tree(tmp_path, {"notes/x.md": "# X", "notes/y.rst": "y"})
    found, skipped = discover([tmp_path / "notes" / "x.md", tmp_path / "notes" / "y.rst"], IngestSettings())
    assert [(f.source, f.root) for f in found] == [("x.md", tmp_path / "notes" / "x.md")]
    assert len(skipped) == 1 and "not a note file" in skipped[0].reason


def test_missing_path_is_reported(tmp_path: Path):
    found, skipped = discover([tmp_path / "nope"], IngestSettings())
    assert found == [] and skipped[0].reason == "does not exist"


def test_size_limit_skips_with_a_reason(tmp_path: Path):
    _tree(tmp_path, {"small.md": "# S", "big.md": "x" * 300_000})
    found, skipped = discover([tmp_path], IngestSettings(max_file_mb=0.1))
    assert [f.source for f in found] == ["small.md"]
    assert skipped[0].path.endswith("big.md") and "0.1 MB limit" in skipped[0].reason


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_is_skipped(tmp_path: Path):
    _tree(tmp_path, {"ok.md": "# ok", "locked.md": "# no"})
    (tmp_path / "locked.md").chmod(0)
    try:
        found, skipped = discover([tmp_path], IngestSettings())
    finally:
        (tmp_path / "locked.md").chmod(0o644)
    assert [f.source for f in found] == ["ok.md"] and "cannot read" in skipped[0].reason


def test_links_stay_inside_the_root_and_loops_end(tmp_path: Path):
    root, outside = tmp_path / "notes", tmp_path / "outside"
    _tree(root, {"a.md": "# A", "sub/b.md": "# B"})
    _tree(outside, {"secret.md": "# S"})
    (root / "out-dir").symlink_to(outside, target_is_directory=True)
    (root / "out-file.md").symlink_to(outside / "secret.md")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    (root / "alias.md").symlink_to(root / "a.md")
    found, skipped = discover([root], IngestSettings())
    assert sorted(f.source for f in found) == ["a.md", "sub/b.md"]  # alias.md is the same file, read once
    assert {Path(s.path).name for s in skipped} == {"out-dir", "out-file.md"}
    assert all("outside" in s.reason for s in skipped)


def test_same_name_from_two_folders_is_refused(tmp_path: Path):
    _tree(tmp_path, {"one/readme.md": "# 1", "two/readme.md": "# 2"})
    found, skipped = discover([tmp_path / "one", tmp_path / "two"], IngestSettings())
    assert [f.root.name for f in found] == ["one"] and "readme.md" in skipped[0].reason


def test_discovery_never_writes(tmp_path: Path):
    _tree(tmp_path, {"a.md": "# A"})
    before = (tmp_path / "a.md").stat()
    discover([tmp_path], IngestSettings())
    after = (tmp_path / "a.md").stat()
    assert (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)


def test_fixture_and_corpora_are_found():
    assert len(discover([FIXTURE_NOTES], IngestSettings())[0]) == 4
    found, skipped = discover([CORPORA], IngestSettings(extensions=[".md"]))
    assert len(found) == sum(CORPUS_NOTES.values()) and not skipped
    assert "paddle-dl-zh/deep_learning__model_tuning__learning_rate.md" in {f.source for f in found}

"""Which files to ingest: note files under the given paths, with a reason for every file left out."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from studygraph.settings import IngestSettings

log = logging.getLogger(__name__)

SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class SourceFile:
    """A note file to read: where it is, the name it is known by, and the ingest root it came from."""

    path: Path
    source: str = ""
    root: Path = Path()
    size: int = 0


@dataclass(frozen=True)
class Skipped:
    """A path that was not ingested, and why (shown to the user)."""

    path: str
    reason: str

    def __post_init__(self) -> None:
        # A file name that is not valid UTF-8 arrives with surrogate escapes, which no JSON or terminal can print.
        object.__setattr__(self, "path", printable(self.path))


def printable(name: str) -> str:
    """`name` with bytes that were not valid UTF-8 shown as U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def _size_problem(path: Path, settings: IngestSettings) -> tuple[int, str | None]:
    """(size in bytes, a skip reason or None)."""
    try:
        info = path.stat()
    except OSError as exc:
        return 0, f"cannot read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):  # a pipe named x.md would block the read forever
        return 0, "not a regular file (a pipe, socket or device)"
    size = info.st_size
    limit = settings.max_file_mb * 1024 * 1024
    if size > limit:
        return size, f"larger than the {settings.max_file_mb:g} MB limit ({size / 1024 / 1024:.1f} MB; ingest.max_file_mb)"
    if not os.access(path, os.R_OK):
        return size, "cannot read (permission denied)"
    return size, None


def _walk(root: Path, real_root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    """Files under `root` in sorted order; links are followed only while they stay inside `real_root`."""
    visited: set[Path] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        real = directory.resolve()
        if real in visited:  # a link loop, or a folder reached twice through links
            continue
        visited.add(real)
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            skipped.append(Skipped(str(directory), f"cannot list folder ({exc.strerror or exc})"))
            continue
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            path = Path(entry.path)
            try:
                outside = entry.is_symlink() and not path.resolve().is_relative_to(real_root)
            except (OSError, RuntimeError):  # a file link loop (RuntimeError before Python 3.13)
                skipped.append(Skipped(str(path), "link loop (the link points back to itself)"))
                continue
            if outside:
                skipped.append(Skipped(str(path), f"link leads outside {root}"))
            elif entry.is_dir():
                stack.append(path)
            else:
                yield path


def _source_name(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else path.name


def _candidates(paths: Iterable[Path | str], settings: IngestSettings,
                skipped: list[Skipped]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every file under the given paths that has a note suffix."""
    suffixes = {s.lower() for s in settings.extensions}
    for given in paths:
        path = Path(given).expanduser().absolute()
        if not path.exists():
            skipped.append(Skipped(str(given), "does not exist" + (" (a broken link)" if path.is_symlink() else "")))
        elif path.is_dir():
            files = [f for f in _walk(path, path.resolve(), skipped) if f.suffix.lower() in suffixes]
            yield from ((f, path) for f in sorted(files, key=lambda f: f.relative_to(path).as_posix()))
        elif path.suffix.lower() not in suffixes:
            skipped.append(Skipped(str(given), f"not a note file (reads {', '.join(settings.extensions)})"))
        else:
            yield path, path


def discover(paths: Iterable[Path | str], settings: IngestSettings) -> tuple[list[SourceFile], list[Skipped]]:
    """Find the note files under `paths` (files or folders, searched recursively).

    Hidden folders, `.git` and `node_modules` are not searched; links are followed only inside the folder
    given; files over the size limit or unreadable are skipped with a reason. Nothing is opened for writing.

    Args:
        paths: files or folders as the user gave them.
        settings: suffixes read as notes and the size limit.

    Returns:
        The files to read, in a stable order (each once, named relative to its root), and what was skipped.
    """
    skipped: list[Skipped] = []
    found: list[SourceFile] = []
    seen_real: dict[Path, str] = {}
    seen_names: dict[str, Path] = {}
    for path, root in _candidates(paths, settings, skipped):
        source = _source_name(path, root)
        if printable(source) != source:
            skipped.append(Skipped(str(path), "the file name is not valid UTF-8; rename the file"))
            continue
        real = path.resolve()
        if real in seen_real:
            log.info("%s is the same file as %s; read once.", path, seen_real[real])
            continue
        if source in seen_names and seen_names[source] != root:
            skipped.append(Skipped(str(path), f"another folder given also has a note named {source} "
                                              f"({seen_names[source]}); ingest one of them at a time"))
            continue
        size, problem = _size_problem(path, settings)
        if problem:
            skipped.append(Skipped(str(path), problem))
            continue
        seen_real[real] = str(path)
        seen_names[source] = root
        found.append(SourceFile(path=path, source=source, root=root, size=size))
    return found, skipped

"""Uploaded notes saved under the workspace with safe names: no path escape, no silent overwrite."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

UPLOADS_DIR = "uploads"
_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)
MAX_NAME = 120
MAX_NAME_BYTES = 200


@dataclass
class SavedUploads:
    """What happened to each uploaded file."""

    saved: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def safe_name(name: str, extensions: Sequence[str]) -> str | None:
    """A file name made of letters (any script), digits, `-`, `_` and `.`, keeping an allowed suffix.

    Directory parts, `..`, control characters and leading dots are dropped; None when nothing usable is left
    or the suffix is not one of `extensions`.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in {e.lower() for e in extensions}:
        return None
    stem = _UNSAFE.sub("_", stem).strip("._-")
    stem = re.sub(r"\.{2,}", ".", stem)[: MAX_NAME]
    # File systems limit names to 255 bytes, not characters: 120 CJK characters or emoji would not fit.
    stem = stem.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").strip("._-")
    if not stem:
        return None
    return f"{stem}.{suffix.lower()}"


def _size(n: int) -> str:
    return f"{n / 1_048_576:.3g} MB" if n >= 1_048_576 else f"{n / 1024:.3g} KB"


def _free_path(folder: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Where to write: the name itself, the existing file when it holds the same bytes, else `stem-2.md`..."""
    stem, _, suffix = name.rpartition(".")
    for n in range(1, 10_000):
        candidate = folder / (name if n == 1 else f"{stem}-{n}.{suffix}")
        if not candidate.exists():
            return candidate, False
        if candidate.is_file() and candidate.read_bytes() == data:
            return candidate, True
    raise OSError(f"too many uploads named {name}")


def save_uploads(files: Iterable[tuple[str, bytes]], workspace_root: Path, max_bytes: int,
                 extensions: Sequence[str]) -> SavedUploads:
    """Save uploaded files under `<workspace>/uploads/`.

    Args:
        files: (name as the browser sent it, content).
        workspace_root: the workspace directory.
        max_bytes: larger files are refused with a reason.
        extensions: allowed suffixes (the ingest settings' note extensions).

    Returns:
        Saved paths, files already there with the same content, and (name, reason) for refused ones.
    """
    folder = (workspace_root / UPLOADS_DIR).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    result = SavedUploads()
    for original, data in files:
        if len(data) > max_bytes:
            result.refused.append((original, f"larger than the upload limit ({_size(max_bytes)})"))
            continue
        name = safe_name(original, extensions)
        if name is None:
            result.refused.append((original, f"not a note file ({', '.join(extensions)})"))
            continue
        target, same = _free_path(folder, name, data)
        if target.resolve().parent != folder:  # belt and braces: the name has no directory part
            result.refused.append((original, "unsafe file name"))
            continue
        if same:
            result.unchanged.append(target)
            continue
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        result.saved.append(target)
    return result

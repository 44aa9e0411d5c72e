"""The user's cache folder: derived data that is slow to build and safe to lose (never the user's own work).

Everything kept here is rebuilt when missing or unreadable, and each file is named by what it was built from
(a package version, a model or dictionary hash), so a changed source never reads a stale file.
"""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def user_cache_dir() -> Path:
    """$STUDYGRAPH_CACHE, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache) / studygraph."""
    configured = os.environ.get("STUDYGRAPH_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "studygraph"


def save_marshal(path: Path, state: object) -> None:
    """Write plain data (dicts, lists, strings, bytes, numbers: marshal, no pickle) atomically; a folder that
    cannot be written (a read-only home) only means the next process builds the data again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                marshal.dump(state, out)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError) as exc:
        log.debug("Cannot keep %s: %s", path, exc)


def load_marshal(path: Path) -> object | None:
    """What `save_marshal` kept at `path`, or None when there is none or it cannot be read back."""
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError) as exc:
        log.debug("No usable cache %s: %s", path, exc)
        return None

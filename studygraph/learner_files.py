"""The learner's own files (profile, review history): at the workspace root, outside generation directories, so
re-ingesting and --rebuild never touch them; each is read validated and written atomically under its own lock."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from studygraph.errors import WorkspaceError

_M = TypeVar("_M", bound=BaseModel)


def read_learner_file(path: Path, model: type[_M], what: str, fix: str) -> _M | None:
    """The learner file at `path` as `model`, or None when there is none yet.

    Args:
        path: the file (JSON).
        model: the pydantic model it holds.
        what: what it is, for the message ("the learner profile").
        fix: what the user can do about a damaged file, for the message.

    Raises:
        WorkspaceError: the file exists but cannot be read or does not validate.
    """
    if not path.is_file():
        return None
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        reason = f"{exc.error_count()} problems" if isinstance(exc, ValidationError) else str(exc)
        raise WorkspaceError(f"Cannot read {what} {path} ({reason}); {fix}") from None


@contextlib.contextmanager
def learner_file_lock(root: Path, lock_name: str, what: str, timeout: float) -> Iterator[None]:
    """Hold the lock of one learner file, so two concurrent edits never lose each other.

    Raises:
        WorkspaceError: another process held the lock for `timeout` seconds.
    """
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / lock_name))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WorkspaceError(f"{what[0].upper()}{what[1:]} in {root} is being changed by another process; "
                             "try again.") from None
    try:
        yield
    finally:
        lock.release()

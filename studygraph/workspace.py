"""Workspace on disk: a manifest that names one complete generation of component files, written atomically.

Layout::

    WORKSPACE/
      manifest.json        schema, versions, embedder, chunker, counts, times, and the checksum of every file
      gen-000007/          the current generation: chunks.jsonl, faiss.index, lexical/, graph.json, ...
      profile.json         the learner's profile (user data, kept across rebuilds)
      .lock                held by writers

A writer builds a whole new generation directory, then replaces manifest.json in one `os.replace`. A crash
at any point leaves the previous manifest pointing at the previous, complete generation; readers never see a
mix of versions because generation files are never modified after their manifest is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from studygraph import __version__
from studygraph.errors import WorkspaceError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
PROFILE = "profile.json"
LOCK = ".lock"
_GEN_PREFIX = "gen-"


def rebuild_hint(root: Path) -> str:
    return f"run `studygraph ingest NOTES... --workspace {root} --rebuild`"


# --------------------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one step, on failure it vanishes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def write_jsonl(path: Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write records one JSON object a line, atomically; returns how many."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for rec in records:
            obj = rec.model_dump(mode="json") if isinstance(rec, BaseModel) else rec
            fh.write(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise WorkspaceError(f"{path} line {lineno} is not valid JSON ({exc.msg}).") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- manifest


class FileEntry(BaseModel):
    sha256: str
    bytes: int


class Manifest(BaseModel):
    """What a workspace holds and how it was built."""

    schema_version: int = SCHEMA_VERSION
    package_version: str = __version__
    generation: int = 0
    embedder: dict[str, Any] = Field(default_factory=dict, description="{'name', 'dim'}")
    chunker: dict[str, Any] = Field(default_factory=dict, description="Chunker settings used to build it.")
    counts: dict[str, Any] = Field(default_factory=dict)
    created: str = ""
    updated: str = ""
    files: dict[str, FileEntry] = Field(default_factory=dict, description="Path in the generation -> checksum.")

    @property
    def generation_dir(self) -> str:
        return f"{_GEN_PREFIX}{self.generation:06d}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- reading


class Snapshot:
    """One complete generation of a workspace, as named by its manifest."""

    def __init__(self, root: Path, manifest: Manifest):
        self.root = root
        self.manifest = manifest
        self.dir = root / manifest.generation_dir

    def has(self, component: str) -> bool:
        prefix = component.rstrip("/") + "/"
        return component in self.manifest.files or any(f.startswith(prefix) for f in self.manifest.files)

    def path(self, component: str, verify: bool = True) -> Path:
        """The path of a component file or folder, checked against the manifest's checksums.

        Raises:
            WorkspaceError: the component is missing or its bytes differ from what the manifest recorded.
        """
        if not self.has(component):
            raise WorkspaceError(
                f"Workspace {self.root} has no '{component}' (built by an older version?); {rebuild_hint(self.root)}."
            )
        if verify:
            prefix = component.rstrip("/") + "/"
            for name, entry in self.manifest.files.items():
                if name == component or name.startswith(prefix):
                    self._verify(name, entry)
        return self.dir / component

    def _verify(self, name: str, entry: FileEntry) -> None:
        file = self.dir / name
        try:
            size = file.stat().st_size
            ok = size == entry.bytes and sha256_file(file) == entry.sha256
        except OSError:
            ok = False
        if not ok:
            if self._superseded():
                raise WorkspaceError(
                    f"Workspace {self.root} was updated while it was being read (generation "
                    f"{self.manifest.generation} is gone); run the command again to read the new one."
                )
            raise WorkspaceError(
                f"Workspace file {file} is missing or corrupted (its checksum differs from {self.root / MANIFEST}); "
                f"{rebuild_hint(self.root)}."
            )

    def _superseded(self) -> bool:
        """Whether a writer has published a newer generation and removed this one (not damage)."""
        if self.dir.is_dir():
            return False
        with contextlib.suppress(OSError, ValueError, AttributeError):
            current = json.loads((self.root / MANIFEST).read_text(encoding="utf-8")).get("generation")
            return isinstance(current, int) and current > self.manifest.generation
        return False

    def read_json(self, component: str) -> Any:
        path = self.path(component)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"Cannot read {path}: {exc}; {rebuild_hint(self.root)}.") from None

    def read_jsonl(self, component: str) -> Iterator[dict[str, Any]]:
        return read_jsonl(self.path(component))


class Workspace:
    """A workspace directory. Opening one does not create it; `transaction()` writes a new generation."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def profile_path(self) -> Path:
        return self.root / PROFILE

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> Manifest:
        """The current manifest.

        Raises:
            WorkspaceError: no workspace here, or the manifest is unreadable or of another schema.
        """
        if not self.exists():
            raise WorkspaceError(
                f"No workspace at {self.root}: run `studygraph ingest NOTES... --workspace {self.root}` first."
            )
        try:
            raw = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"Cannot read {self.manifest_path}: {exc}; {rebuild_hint(self.root)}.") from None
        if not isinstance(raw, dict) or raw.get("schema_version") != SCHEMA_VERSION:
            found = raw.get("schema_version") if isinstance(raw, dict) else None
            raise WorkspaceError(
                f"Workspace {self.root} has schema version {found!r}; this studygraph ({__version__}) reads "
                f"version {SCHEMA_VERSION}; {rebuild_hint(self.root)}."
            )
        try:
            return Manifest.model_validate(raw)
        except ValidationError as exc:
            raise WorkspaceError(f"{self.manifest_path} is malformed ({exc.error_count()} problems); "
                                 f"{rebuild_hint(self.root)}.") from None

    def snapshot(self, embedder: str | None = None, dim: int | None = None) -> Snapshot:
        """The current complete generation, refused when it was built with another embedder.

        Args:
            embedder: the embedder name the caller will query with; None skips the check.
            dim: its dimension; None skips that part of the check.

        Raises:
            WorkspaceError: missing, malformed, of another schema or embedder.
        """
        manifest = self.read_manifest()
        check_embedder(self.root, manifest, embedder, dim)
        snap = Snapshot(self.root, manifest)
        if not snap.dir.is_dir():
            raise WorkspaceError(f"Workspace {self.root} is incomplete ({snap.dir} is missing); {rebuild_hint(self.root)}.")
        return snap

    @contextlib.contextmanager
    def lock(self, timeout: float = 0) -> Iterator[None]:
        """Hold the writer lock; a second writer waits `timeout` seconds, then is refused with a message."""
        from filelock import FileLock, Timeout

        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / LOCK))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise WorkspaceError(
                f"Workspace {self.root} is being written by another studygraph process; wait for it to finish."
            ) from None
        try:
            yield
        finally:
            lock.release()

    def transaction(self) -> Transaction:
        """Start writing a new generation (hold `lock()` around it)."""
        return Transaction(self)


def check_embedder(root: Path, manifest: Manifest, name: str | None, dim: int | None) -> None:
    have_name, have_dim = manifest.embedder.get("name"), manifest.embedder.get("dim")
    if name is not None and have_name and have_name != name:
        raise WorkspaceError(
            f"Workspace {root} was built with embedder '{have_name}', but the settings ask for '{name}'; "
            f"{rebuild_hint(root)} (or set embedder.model back to '{have_name}')."
        )
    if dim is not None and have_dim and have_dim != dim:
        raise WorkspaceError(
            f"Workspace {root} holds {have_dim}-d vectors, the embedder gives {dim}-d; {rebuild_hint(root)}."
        )


# --------------------------------------------------------------------------- writing


def _last_generation(root: Path) -> int:
    """The highest generation number with a directory in `root` (0 for none)."""
    numbers = [int(p.name[len(_GEN_PREFIX):]) for p in root.glob(f"{_GEN_PREFIX}*")
               if p.name[len(_GEN_PREFIX):].isdigit()]
    return max(numbers, default=0)


class Transaction:
    """A new generation being written. Nothing is visible to readers until `commit()`."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.root = workspace.root
        try:
            self.previous: Manifest | None = workspace.read_manifest() if workspace.exists() else None
        except WorkspaceError:  # unreadable or of another schema: a rebuild starts over beside it
            self.previous = None
        generation = (self.previous.generation if self.previous else _last_generation(self.root)) + 1
        self.manifest = Manifest(
            generation=generation,
            created=self.previous.created if self.previous else _now(),
            embedder=dict(self.previous.embedder) if self.previous else {},
            chunker=dict(self.previous.chunker) if self.previous else {},
            counts=dict(self.previous.counts) if self.previous else {},
        )
        self.dir = self.root / self.manifest.generation_dir
        if self.dir.exists():  # left by a crashed writer: never referenced by a manifest
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.committed = False

    def path(self, component: str) -> Path:
        """Where to write a component of the new generation (parents are created)."""
        target = self.dir / component
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def carry(self, component: str) -> bool:
        """Take a component unchanged from the previous generation (hard link, else copy); False if it had none."""
        if self.previous is None:
            return False
        old_snap = Snapshot(self.root, self.previous)
        if not old_snap.has(component):
            return False
        prefix = component.rstrip("/") + "/"
        for name in self.previous.files:
            if name == component or name.startswith(prefix):
                src, dst = old_snap.dir / name, self.path(name)
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
        return True

    def previous_snapshot(self) -> Snapshot | None:
        return Snapshot(self.root, self.previous) if self.previous else None

    def commit(self, **fields: Any) -> Manifest:
        """Checksum every file of the generation and publish it by replacing the manifest in one step."""
        files = {}
        for file in sorted(p for p in self.dir.rglob("*") if p.is_file()):
            name = file.relative_to(self.dir).as_posix()
            files[name] = FileEntry(sha256=sha256_file(file), bytes=file.stat().st_size)
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(self.dir)
        manifest = self.manifest.model_copy(update={**fields, "files": files, "updated": _now()})
        atomic_write_json(self.workspace.manifest_path, manifest.model_dump(mode="json"))
        self.committed = True
        self._collect_garbage(keep={manifest.generation, manifest.generation - 1})
        return manifest

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _collect_garbage(self, keep: set[int]) -> None:
        # The previous generation stays one round so a reader that opened it just before the commit can finish.
        for child in self.root.glob(f"{_GEN_PREFIX}*"):
            try:
                number = int(child.name[len(_GEN_PREFIX):])
            except ValueError:
                continue
            if number not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
        for stale in self.root.glob(f".{MANIFEST}.*.tmp"):  # left by a writer killed mid-commit (we hold the lock)
            stale.unlink(missing_ok=True)

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self.committed:
            self.abort()

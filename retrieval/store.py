"""Chunk records in a workspace: `chunks.jsonl` (one Chunk a line, in file and reading order)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from studygraph.errors import WorkspaceError
from studygraph.records import Chunk, Section
from studygraph.workspace import Snapshot, read_jsonl, write_jsonl

CHUNKS_FILE = "chunks.jsonl"
SECTIONS_FILE = "sections.jsonl"


def write_chunks(path: Path, chunks: Iterable[Chunk]) -> int:
    return write_jsonl(path, chunks)


def read_chunks(snapshot: Snapshot) -> list[Chunk]:
    """All chunks of a workspace snapshot, validated.

    Raises:
        WorkspaceError: the file is missing, corrupted or holds records of another shape.
    """
    return _read_records(snapshot, CHUNKS_FILE, Chunk)


def read_sections(snapshot: Snapshot) -> list[Section]:
    return _read_records(snapshot, SECTIONS_FILE, Section)


def _read_records(snapshot: Snapshot, component: str, model: type) -> list:
    path = snapshot.path(component)
    try:
        return [model.model_validate(row) for row in read_jsonl(path)]
    except ValidationError as exc:
        raise WorkspaceError(f"{path} holds a malformed record ({exc.errors()[0]['msg']}); "
                             f"run `studygraph ingest NOTES... --workspace {snapshot.root} --rebuild`.") from None

"""The notes a workspace holds: what `studygraph notes` lists, and which notes the paths given to `remove` name."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from studygraph.errors import InputError

if TYPE_CHECKING:
    from ingest.pipeline import NoteState


class IngestedNote(BaseModel):
    """One note of the workspace, as `studygraph notes` lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(description="The note's name in the workspace (citations use it).")
    path: str = Field(description="The file it was read from (never modified by studygraph).")
    chunks: int
    sections: int
    repairs: tuple[str, ...] = Field((), description="What decoding repaired (mojibake, invalid bytes...).")
    encoding: str
    size: int = Field(description="Bytes on disk when it was read.")
    ingested: str = Field("", description="When this version was read (UTC, ISO 8601; '' for older workspaces).")


def note_path(state: NoteState) -> Path:
    """The file a note was read from: its root when the file itself was given, else root/name."""
    return Path(state.root) if state.root_kind == "file" else Path(state.root) / state.note.source


def describe_notes(notes: Mapping[str, NoteState]) -> list[IngestedNote]:
    """The workspace's notes, sorted by name."""
    return [IngestedNote(source=source, path=str(note_path(state)), chunks=len(state.chunks),
                         sections=len(state.sections), repairs=state.note.repairs, encoding=state.note.encoding,
                         size=state.note.size, ingested=state.note.ingested)
            for source, state in sorted(notes.items())]


def _same_or_under(candidate: Path, given: Path) -> bool:
    return candidate == given or candidate.is_relative_to(given)


def _named_by(given: str | Path, notes: Mapping[str, NoteState]) -> list[str]:
    """The notes one argument names: a note's name, a name prefix ending at a folder, its file, or a folder."""
    text = os.fspath(given)
    if text in notes:
        return [text]
    prefix = text.rstrip("/") + "/"
    by_name = [s for s in notes if s.startswith(prefix)]
    if by_name:
        return by_name
    absolute = Path(text).expanduser().absolute()
    real = absolute.resolve()
    return [s for s, state in notes.items()
            if _same_or_under(note_path(state).absolute(), absolute) or _same_or_under(note_path(state).resolve(), real)]


def select_notes(notes: Mapping[str, NoteState], paths: Sequence[str | Path]) -> list[str]:
    """The names of the notes that `paths` name (what `studygraph remove` removes).

    Args:
        notes: the workspace's notes by name.
        paths: note names as `studygraph notes` lists them, the files they were read from, or folders of them.

    Returns:
        Note names, sorted, each once.

    Raises:
        InputError: some path names no ingested note (the message lists them); nothing is selected then.
    """
    selected: set[str] = set()
    unknown: list[str] = []
    for given in paths:
        found = _named_by(given, notes)
        if not found:
            unknown.append(os.fspath(given))
        selected.update(found)
    if unknown:
        raise InputError(f"Not ingested in this workspace: {', '.join(unknown)}. Nothing was removed; "
                         "`studygraph notes` lists the notes it holds.")
    if not paths:
        raise InputError("Name the notes to remove (as `studygraph notes` lists them, or their files or folders).")
    return sorted(selected)

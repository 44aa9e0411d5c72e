"""Sections and chunks for graph tests, made by the real parser and chunker (no workspace, no embedder)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from studygraph.records import Chunk, Section


@lru_cache(maxsize=1)
def _count_tokens():  # noqa: ANN202 - the bundled embedder's token counter (tokenizers only, no torch)
    from retrieval.embedders import load_token_counter
    from studygraph.settings import EmbedderSettings

    return load_token_counter(EmbedderSettings())


def note_records(text: str, source: str) -> tuple[list[Section], list[Chunk]]:
    """Parse and chunk one note's text the way ingest does."""
    from ingest.markdown.chunking import split_chunks
    from ingest.markdown.parse import parse_note

    note = parse_note(text, source)
    return note.sections, split_chunks(text, note.sections, _count_tokens(), 256, 32, blocks=note.blocks)


def notes_records(notes: Iterable[tuple[str, str]]) -> tuple[list[Section], list[Chunk]]:
    """Records of several (source, text) notes."""
    sections: list[Section] = []
    chunks: list[Chunk] = []
    for source, text in notes:
        s, c = note_records(text, source)
        sections += s
        chunks += c
    return sections, chunks


def folder_records(folder: Path) -> tuple[list[Section], list[Chunk]]:
    """Records of every markdown note in a folder, named by file name."""
    return notes_records((p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.md")))

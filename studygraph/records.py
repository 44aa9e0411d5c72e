"""Typed records shared by every package: notes, sections, chunks, concepts, edges, hits, answers, paths."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ChunkKind = Literal["prose", "code", "table", "formula", "mixed"]
Language = Literal["zh", "en", "mixed"]
EdgeType = Literal["prerequisite", "used_in", "part_of", "related"]
EDGE_TYPES: tuple[EdgeType, ...] = ("prerequisite", "used_in", "part_of", "related")
AnswerMode = Literal["llm", "extractive", "not_found", "named_only", "path"]
SearchMode = Literal["hybrid", "dense", "lexical"]


def content_id(*parts: str, prefix: str = "", length: int = 16) -> str:
    """A stable id derived from content (nano-graphrag's compute_mdhash_id): same input, same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]
    return f"{prefix}{digest}"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Section(_Record):
    """A heading and the lines under it, up to the next heading of any level."""

    id: str
    source: str = Field(description="Path relative to the ingest root, with '/' separators.")
    heading: str = Field(description="Heading text as written (inline markup removed); '' for the preamble.")
    level: int = Field(description="1-6 for headings, 0 for text before the first heading.")
    heading_path: tuple[str, ...] = Field(description="Headings from the top level down to this one.")
    line_start: int = Field(description="1-based first line (the heading line itself).")
    line_end: int = Field(description="1-based last line, inclusive.")
    parent_id: str | None = None
    order: int = Field(description="Position of the section in its file.")


class Chunk(_Record):
    """A passage that is embedded, indexed and cited; its text comes from lines line_start..line_end."""

    id: str
    source: str
    section_id: str
    heading_path: tuple[str, ...]
    line_start: int
    line_end: int
    text: str
    kind: ChunkKind = "prose"
    language: Language = "en"
    order: int = Field(0, description="Position of the chunk in its file.")

    def context_text(self) -> str:
        """The text that is embedded and indexed: heading path as context, then the passage."""
        heading = " > ".join(h for h in self.heading_path if h)
        return f"{heading}\n{self.text}" if heading else self.text


class NoteFile(_Record):
    """One ingested file: where it is, what it held, how it was decoded."""

    source: str
    sha256: str = Field(description="Hash of the raw bytes on disk.")
    size: int
    encoding: str
    repairs: tuple[str, ...] = ()
    sections: int = 0
    chunks: int = 0
    ingested: str = Field("", description="When this version of the file was read (UTC, ISO 8601).")
    front_matter: dict[str, Any] = Field(
        default_factory=dict, description="The note's YAML front matter as JSON values (aliases, tags, prerequisites "
        "become graph names and edges); kept so an unchanged note's links survive incremental ingests.")


class Evidence(_Record):
    """Why an edge exists: the chunk that shows it and the rule that read it there."""

    chunk_id: str
    rule: str
    detail: str = ""


class Concept(_Record):
    """A concept found in the notes."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    chapter: str = ""
    sections: tuple[str, ...] = Field((), description="Ids of sections that define the concept.")
    chunks: tuple[str, ...] = Field((), description="Ids of chunks that define the concept.")
    mentions: tuple[str, ...] = Field((), description="Ids of chunks that mention the concept.")
    sources: tuple[str, ...] = Field((), description="Files the concept comes from.")
    order: int = Field(0, description="First appearance in the notes' reading order.")
    importance: float = 0.0
    community: int = 0


class Edge(_Record):
    """A typed, directed relation between two concepts; `prerequisite`: source before target."""

    source: str
    target: str
    type: EdgeType
    weight: float = 1.0
    evidence: tuple[Evidence, ...] = ()


class Hit(_Record):
    """A passage found for a query."""

    rank: int
    chunk: Chunk
    score: float
    scores: dict[str, float] = Field(default_factory=dict, description="Per-ranking scores (dense, lexical...).")


class Citation(_Record):
    """A source of an answer, resolved and checked by studygraph, never trusted from the model."""

    n: int
    chunk_id: str
    source: str
    heading_path: tuple[str, ...]
    line_start: int
    line_end: int
    text: str
    supported: bool = True


class Answer(_Record):
    """An answer to a question, with the citations it uses."""

    question: str
    answer: str
    mode: AnswerMode
    citations: tuple[Citation, ...] = ()
    unsupported: tuple[str, ...] = Field((), description="Sentences whose cited source does not support them.")
    nearest: tuple[Citation, ...] = Field((), description="For not_found: the nearest passages, shown as such; for "
                                          "named_only: where the notes name the concept.")
    checked: bool = Field(False, description="Every sentence the model wrote passed the claim check.")
    model: str = ""
    seconds: float = 0.0


class SourceRef(_Record):
    """A passage to read, for a study-path step."""

    chunk_id: str
    source: str
    heading_path: tuple[str, ...]
    line_start: int
    line_end: int


class StudyStep(_Record):
    concept: str
    concept_id: str
    aliases: tuple[str, ...] = ()
    stage: str
    reason: str
    minutes: float
    sources: tuple[SourceRef, ...] = ()


class StudyPath(_Record):
    goals: tuple[dict[str, str], ...] = ()
    unknown_goals: tuple[dict[str, object], ...] = ()
    known: tuple[str, ...] = ()
    steps: tuple[StudyStep, ...] = ()

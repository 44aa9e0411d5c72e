"""The ingest pipeline: find notes, decode, parse, chunk, index and graph them into a new workspace generation.

Thin orchestration over pure functions (`discover`, `decode_note`, `parse_note`, `split_chunks`, then the
retrieval indexes and the concept graph). Incremental by content hash: a file whose bytes (and the chunker
settings) did not change keeps its sections and chunks; if nothing changed at all, no generation is written.
A folder given again is the truth about its notes: files gone from it lose their chunks. Notes of other
folders ingested earlier are kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from ingest.catalog import IngestedNote, describe_notes, select_notes
from ingest.markdown.chunking import split_chunks
from ingest.markdown.parse import parse_note
from ingest.sources import Skipped, SourceFile, discover
from retrieval.embedders import Embedder, build_embedder, load_token_counter
from retrieval.store import CHUNKS_FILE, SECTIONS_FILE, read_chunks, read_sections, write_chunks
from studygraph.errors import InputError, StudygraphError, WorkspaceError
from studygraph.records import EDGE_TYPES, Chunk, NoteFile, Section
from studygraph.settings import Settings
from studygraph.workspace import (
    Snapshot,
    Transaction,
    Workspace,
    atomic_write_json,
    check_embedder,
    write_jsonl,
)

if TYPE_CHECKING:
    from kg.graph import ConceptGraph

log = logging.getLogger(__name__)

CHUNKER_VERSION = 1
LOCK_TIMEOUT_S = 30.0
GRAPH_FILE = "graph.json"
FILES_FILE = "files.json"
FILES_VERSION = 1
Progress = Callable[[str, int, int], None]


class IngestReport(BaseModel):
    """What an ingest did; `to_json()` is the `studygraph ingest --json` object."""

    workspace: str
    read: int = Field(0, description="Files read, parsed and chunked in this run.")
    unchanged: int = Field(0, description="Files whose bytes had not changed (nothing redone).")
    skipped: list[dict[str, str]] = Field(default_factory=list, description="[{'path', 'reason'}]")
    repaired: list[dict[str, str]] = Field(default_factory=list, description="[{'path', 'repair'}]")
    dropped: list[str] = Field(default_factory=list, description="Notes gone from their folder, removed.")
    sections: int = 0
    chunks: int = 0
    concepts: int = 0
    edges: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(EDGE_TYPES, 0))
    seconds: float = 0.0
    generation: int = Field(0, description="Workspace generation after the ingest.")
    written: bool = Field(False, description="Whether a new generation was written.")
    index: dict[str, int] = Field(default_factory=dict, description="Vectors embedded / reused / removed.")

    def to_json(self) -> dict:
        """The report in the shape the CLI prints with --json."""
        return {
            "workspace": self.workspace,
            "files": {"read": self.read, "unchanged": self.unchanged, "skipped": self.skipped,
                      "repaired": self.repaired},
            "sections": self.sections,
            "chunks": self.chunks,
            "concepts": self.concepts,
            "edges": dict(self.edges),
            "seconds": round(self.seconds, 3),
        }


def chunker_config(settings: Settings) -> dict:
    """Settings that shape sections and chunks; a change re-chunks every note."""
    return {"version": CHUNKER_VERSION, "max_tokens": settings.ingest.chunk_max_tokens,
            "overlap_tokens": settings.ingest.chunk_overlap_tokens, "tokenizer": settings.embedder.model,
            "repair_mojibake": settings.ingest.repair_mojibake}


@dataclass
class _Run:
    """What this ingest found, note by note."""

    notes: dict[str, NoteState] = field(default_factory=dict)
    read: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    repaired: list[dict[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- files.json and the previous generation


@dataclass
class NoteState:
    """One ingested note: its file record, the root it was ingested from, its sections and chunks."""

    note: NoteFile
    root: str
    sections: list[Section]
    chunks: list[Chunk]
    root_kind: str = "folder"  # or "file": the note itself was the path given


@dataclass
class PreviousState:
    """The notes of the current generation, and whether their chunks can be reused as they are."""

    snapshot: Snapshot
    notes: dict[str, NoteState]
    roots: dict[str, str]  # root path -> "folder" | "file"
    reusable: bool

    def folder_root_of(self, path: Path) -> Path | None:
        """The deepest ingested folder that holds `path`, if any."""
        folders = [Path(r) for r, kind in self.roots.items() if kind == "folder" and path.is_relative_to(r)]
        return max(folders, key=lambda p: len(p.parts), default=None)


def write_files(path: Path, notes: Sequence[NoteState]) -> None:
    """Write `files.json`: every note's NoteFile record, and the roots (folders or files) they came from."""
    roots: dict[str, dict] = {}
    for state in notes:
        roots.setdefault(state.root, {"kind": state.root_kind, "files": []})["files"].append(state.note.source)
    atomic_write_json(path, {"version": FILES_VERSION, "roots": roots,
                             "files": [s.note.model_dump(mode="json") for s in notes]})


def read_note_files(snapshot: Snapshot) -> list[NoteFile]:
    """The NoteFile records of a generation (empty for a workspace without `files.json`)."""
    if not snapshot.has(FILES_FILE):
        return []
    return [NoteFile.model_validate(f) for f in snapshot.read_json(FILES_FILE).get("files", [])]


def load_previous(workspace: Workspace, embedder_name: str | None, chunker: dict) -> PreviousState | None:
    """The current generation's notes, or None for a new workspace.

    Raises:
        WorkspaceError: the workspace was built with another embedder, or its files are corrupted.
    """
    if not workspace.exists():
        return None
    manifest = workspace.read_manifest()
    check_embedder(workspace.root, manifest, embedder_name, None)
    snapshot = workspace.snapshot()
    if not snapshot.has(FILES_FILE):
        return PreviousState(snapshot, {}, {}, reusable=False)
    data = snapshot.read_json(FILES_FILE)
    root_of = {src: root for root, info in data.get("roots", {}).items() for src in info.get("files", [])}
    sections: dict[str, list[Section]] = {}
    for section in read_sections(snapshot):
        sections.setdefault(section.source, []).append(section)
    chunks: dict[str, list[Chunk]] = {}
    for chunk in read_chunks(snapshot):
        chunks.setdefault(chunk.source, []).append(chunk)
    roots = {root: info.get("kind", "folder") for root, info in data.get("roots", {}).items()}
    notes = {}
    for raw in data.get("files", []):
        note = NoteFile.model_validate(raw)
        root = root_of.get(note.source, "")
        notes[note.source] = NoteState(note, root, sections.get(note.source, []), chunks.get(note.source, []),
                                       roots.get(root, "folder"))
    return PreviousState(snapshot, notes, roots, reusable=manifest.chunker == chunker)


def _adopt_roots(found: list[SourceFile], previous: PreviousState | None,
                 skipped: list[Skipped]) -> list[SourceFile]:
    """Name a single file inside an already ingested folder as that folder does; refuse clashing names."""
    adopted = []
    for sf in found:
        if previous and sf.root == sf.path:
            root = previous.folder_root_of(sf.path)
            if root is not None:
                sf = replace(sf, root=root, source=sf.path.relative_to(root).as_posix())
        owner = previous.notes[sf.source].root if previous and sf.source in previous.notes else None
        if owner is not None and owner != str(sf.root) and Path(owner).is_dir():
            skipped.append(Skipped(str(sf.path), f"a note named {sf.source} was already ingested from {owner}; "
                                                 "rename one of them"))
            continue
        adopted.append(sf)
    return adopted


def _read_note(sf: SourceFile, settings: Settings, count_tokens: Callable[[str], int]) -> NoteState | Skipped:
    """Decode, parse and chunk one file (or say why it is skipped)."""
    from ingest.decode.charset import decode_note

    try:
        with open(sf.path, "rb") as fh:  # read-only: originals are never modified
            data = fh.read()
    except OSError as exc:
        return Skipped(str(sf.path), f"cannot read ({exc.strerror or exc})")
    if not data.strip():
        return Skipped(str(sf.path), "empty")
    try:
        decoded = decode_note(data, repair=settings.ingest.repair_mojibake)
    except StudygraphError as exc:
        return Skipped(str(sf.path), str(exc))
    if not decoded.text.strip():
        return Skipped(str(sf.path), "empty")
    from ingest.graph.declared import read_front_matter  # the graph stage's reader; yaml only when reading

    note = parse_note(decoded.text, sf.source)
    chunks = split_chunks(decoded.text, note.sections, count_tokens, settings.ingest.chunk_max_tokens,
                          settings.ingest.chunk_overlap_tokens, blocks=note.blocks)
    record = NoteFile(source=sf.source, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                      encoding=decoded.encoding, repairs=tuple(decoded.repairs), sections=len(note.sections),
                      chunks=len(chunks), ingested=datetime.now(UTC).isoformat(timespec="seconds"),
                      front_matter=_json_values(read_front_matter(decoded.text)))
    return NoteState(note=record, root=str(sf.root), sections=note.sections, chunks=chunks,
                     root_kind="file" if sf.root == sf.path else "folder")


def _sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def _collect(files: list[SourceFile], previous: PreviousState | None, settings: Settings,
             progress: Progress | None) -> _Run:
    """Reuse unchanged notes, read the others."""
    run = _Run()
    counter: Callable[[str], int] | None = None
    for done, sf in enumerate(files, 1):
        old = previous.notes.get(sf.source) if previous else None
        if old is not None and previous.reusable and old.root == str(sf.root) \
                and old.note.sha256 == _sha256(sf.path):
            run.notes[sf.source], run.unchanged = old, run.unchanged + 1
        else:
            counter = counter or load_token_counter(settings.embedder)
            result = _read_note(sf, settings, counter)
            if isinstance(result, Skipped):
                run.skipped.append(result)
            else:
                run.notes[sf.source], run.read = result, run.read + 1
                run.repaired += [{"path": str(sf.path), "repair": r} for r in result.note.repairs]
        if progress:
            progress("read", done, len(files))
    return run


def _carry_other_roots(run: _Run, previous: PreviousState | None, given_folders: set[str]) -> None:
    """Keep notes of folders not given this time; drop notes gone from the folders given."""
    for source, old in (previous.notes.items() if previous else ()):
        if source in run.notes:
            continue
        if old.root in given_folders:
            run.dropped.append(source)
        else:
            run.notes[source] = old


def _json_values(data: dict[str, Any]) -> dict[str, Any]:
    """Front matter as plain JSON values (YAML dates and other scalars become strings)."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def _chunk_vectors(tx: Transaction) -> dict[str, np.ndarray]:
    """Chunk id -> vector, as `update_indexes` left them in the generation (embedded now or kept from before)."""
    from retrieval.indexing import VECTOR_EMBEDDINGS, VECTOR_IDS

    ids = json.loads(tx.path(VECTOR_IDS).read_text(encoding="utf-8"))
    return dict(zip(ids, np.load(tx.path(VECTOR_EMBEDDINGS), allow_pickle=False), strict=True))


def _build_graph(sections: list[Section], chunks: list[Chunk], embedder: Embedder, settings: Settings,
                 front_matter: dict[str, dict[str, Any]], tx: Transaction) -> ConceptGraph:
    """The concept graph of every current section and chunk (see `ingest.graph.build.build_graph`); headings'
    descriptions take their section's chunk vector, where it is mostly prose, instead of being embedded again."""
    from ingest.graph.build import build_graph
    from kg.glossary import load_glossary
    from retrieval.indexing import cached_encoder  # unchanged concept descriptions are not embedded again

    return build_graph(sections, chunks, embed=cached_encoder(tx, embedder),
                       glossary=load_glossary(settings.graph.glossary), settings=settings.graph,
                       front_matter=front_matter, chunk_vectors=_chunk_vectors(tx))


def _write_generation(tx: Transaction, run: _Run, previous: PreviousState | None, embedder: Embedder,
                      settings: Settings, report: IngestReport, progress: Progress | None,
                      chunker: dict | None = None) -> None:
    from retrieval.indexing import update_indexes  # faiss and bm25s load only when writing

    ordered = [run.notes[s] for s in sorted(run.notes)]
    sections = [s for n in ordered for s in n.sections]
    chunks = [c for n in ordered for c in n.chunks]
    write_files(tx.path(FILES_FILE), ordered)
    write_jsonl(tx.path(SECTIONS_FILE), sections)
    write_chunks(tx.path(CHUNKS_FILE), chunks)
    report.index = update_indexes(tx, previous.snapshot if previous else None, chunks, embedder,
                                  settings.retrieval, progress)
    if progress:
        progress("graph", 0, 1)
    graph = _build_graph(sections, chunks, embedder, settings,
                         {n.note.source: n.note.front_matter for n in ordered if n.note.front_matter}, tx)
    graph.save(tx.path(GRAPH_FILE))
    report.concepts = len(graph)
    report.edges = {t: len(graph.edges(t)) for t in EDGE_TYPES}
    if progress:
        progress("graph", 1, 1)
    report.sections, report.chunks = len(sections), len(chunks)
    counts = {"files": len(ordered), "sections": report.sections, "chunks": report.chunks,
              "concepts": report.concepts, "edges": report.edges}
    manifest = tx.commit(embedder={"name": embedder.name, "dim": embedder.dim},
                         chunker=chunker or chunker_config(settings), counts=counts)
    report.generation, report.written = manifest.generation, True


def _nothing_message(paths: Sequence[Path | str], skipped: list[Skipped], settings: Settings) -> str:
    if skipped:
        shown = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        return f"Nothing could be ingested: {shown}{more}."
    where = ", ".join(str(p) for p in paths) or "(no path given)"
    return (f"Nothing to ingest: no {', '.join(settings.ingest.extensions)} files in {where} "
            "(hidden folders, .git and node_modules are not searched).")


def _needs_write(run: _Run, previous: PreviousState | None, settings: Settings) -> bool:
    """Whether the notes or what the indexes are built with changed (a BM25 setting changed with no note edited
    still needs a new lexical index: without one the setting would silently never apply)."""
    if previous is None or run.read or run.dropped:
        return True
    if any(not previous.snapshot.has(c) for c in ("faiss.index", "lexical", "vectors")):
        return True
    from retrieval.indexing import LEXICAL_CONFIG, lexical_config

    try:
        built = json.loads(previous.snapshot.path(LEXICAL_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError, WorkspaceError):
        return True
    return built != lexical_config(settings.retrieval)


def _plan(paths: Sequence[Path | str], settings: Settings, previous: PreviousState | None,
          progress: Progress | None) -> _Run:
    """Every note the new generation holds: read, reused or carried from other folders.

    Raises:
        InputError: nothing at all could be ingested from `paths`.
    """
    found, skipped = discover(paths, settings.ingest)
    found = _adopt_roots(found, previous, skipped)
    run = _collect(found, previous, settings, progress)
    run.skipped = skipped + run.skipped
    if not run.read and not run.unchanged:
        raise InputError(_nothing_message(paths, run.skipped, settings))
    given_folders = {str(Path(p).expanduser().absolute()) for p in paths if Path(p).is_dir()}
    _carry_other_roots(run, previous, given_folders)
    return run


def ingest_paths(paths: Sequence[Path | str], settings: Settings, embedder: Embedder | None = None,
                 progress: Progress | None = None, rebuild: bool = False) -> IngestReport:
    """Ingest notes (files or folders) into the settings' workspace.

    Args:
        paths: files or folders of notes.
        settings: the effective settings (workspace, ingest, embedder, retrieval, graph).
        embedder: the embedder to use (default: the configured one, loaded only if something is embedded).
        progress: called as progress(stage, done, total) for the stages "read", "embed", "tokenize", "graph".
        rebuild: ignore what the workspace holds (another embedder, other chunker settings) and redo everything.

    Returns:
        What was read, reused, skipped, repaired and written.

    Raises:
        InputError: nothing at all could be ingested (the message says why).
        WorkspaceError: the workspace is locked, corrupted, or built with another embedder (without rebuild).
    """
    started = time.perf_counter()
    workspace = Workspace(settings.workspace)
    embedder = embedder or build_embedder(settings.embedder)
    report = IngestReport(workspace=str(workspace.root))
    with workspace.lock(timeout=LOCK_TIMEOUT_S):
        previous = None if rebuild else load_previous(workspace, embedder.name, chunker_config(settings))
        run = _plan(paths, settings, previous, progress)
        report.read, report.unchanged, report.dropped = run.read, run.unchanged, run.dropped
        report.skipped = [{"path": s.path, "reason": s.reason} for s in run.skipped]
        report.repaired = run.repaired
        if _needs_write(run, previous, settings):
            if previous is not None:  # the name was checked on load; the dimension needs the model
                check_embedder(workspace.root, previous.snapshot.manifest, embedder.name, embedder.dim)
            with workspace.transaction() as tx:
                _write_generation(tx, run, previous, embedder, settings, report, progress)
        else:
            _report_unchanged(report, previous)
    report.seconds = time.perf_counter() - started
    log.info("Ingest: %d read, %d unchanged, %d skipped, %d chunks.", report.read, report.unchanged,
             len(report.skipped), report.chunks)
    return report


def _report_unchanged(report: IngestReport, previous: PreviousState | None) -> None:
    counts = previous.snapshot.manifest.counts if previous else {}
    report.sections, report.chunks = counts.get("sections", 0), counts.get("chunks", 0)
    report.concepts = counts.get("concepts", 0)
    report.edges = {**dict.fromkeys(EDGE_TYPES, 0), **counts.get("edges", {})}
    report.generation = previous.snapshot.manifest.generation if previous else 0


# --------------------------------------------------------------------------- the notes of a workspace


def list_notes(settings: Settings) -> list[IngestedNote]:
    """The notes the settings' workspace holds, sorted by name (what `studygraph notes` prints).

    Raises:
        WorkspaceError: there is no workspace yet, or its files are damaged.
    """
    workspace = Workspace(settings.workspace)
    workspace.read_manifest()  # no workspace: the error says how to make one
    previous = load_previous(workspace, None, chunker_config(settings))
    return describe_notes(previous.notes) if previous else []


def remove_notes(paths: Sequence[Path | str], settings: Settings, embedder: Embedder | None = None,
                 progress: Progress | None = None) -> IngestReport:
    """Remove notes from the workspace, publishing the rest as a new generation; the files are not touched.

    Their chunks, vectors and BM25 entries go, and the concept graph is rebuilt from the remaining chunks, so
    concepts and edges that only they supported are retracted. Ingesting the files again brings them back.

    Args:
        paths: notes by name (as `list_notes` gives them), the files they were read from, or folders of them.
        settings: the effective settings.
        embedder: the workspace's embedder (default: the configured one), for the graph's `related` edges.
        progress: called as progress(stage, done, total), as for `ingest_paths`.

    Returns:
        The report of the new generation; `dropped` lists the notes removed.

    Raises:
        InputError: a path names no ingested note (then nothing is removed).
        WorkspaceError: no workspace, locked, corrupted, or built with another embedder.
    """
    started = time.perf_counter()
    workspace = Workspace(settings.workspace)
    workspace.read_manifest()
    embedder = embedder or build_embedder(settings.embedder)
    report = IngestReport(workspace=str(workspace.root))
    with workspace.lock(timeout=LOCK_TIMEOUT_S):
        previous = load_previous(workspace, embedder.name, chunker_config(settings))
        if previous is None:  # deleted since the check above
            raise WorkspaceError(f"No workspace at {workspace.root}: there is nothing to remove.")
        removed = select_notes(previous.notes, paths)
        gone = set(removed)
        run = _Run(notes={s: n for s, n in previous.notes.items() if s not in gone}, dropped=removed)
        check_embedder(workspace.root, previous.snapshot.manifest, embedder.name, embedder.dim)
        with workspace.transaction() as tx:  # the kept notes' chunks were made with the chunker on record
            _write_generation(tx, run, previous, embedder, settings, report, progress,
                              chunker=previous.snapshot.manifest.chunker)
    report.unchanged, report.dropped = len(run.notes), removed
    report.seconds = time.perf_counter() - started
    log.info("Removed %d notes; %d chunks remain.", len(removed), report.chunks)
    return report

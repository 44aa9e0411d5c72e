"""Notes page: workspace status, the ingested notes (each can be removed), and ingesting a folder or uploads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from assistant.service import StudyService
from studygraph.errors import InputError, WorkspaceError
from ui.views import render
from ui.views.state import get_service, refresh_service, shows_errors
from ui.views.uploads import UPLOADS_DIR, save_uploads

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator

    from ingest.catalog import IngestedNote
    from ingest.pipeline import IngestReport

SUMMARY_KEY = "notes_last_summary"
REMOVED_KEY = "notes_last_removal"
LIST_HEIGHT_PX = 420  # the note list scrolls beyond this height


def workspace_status(service: StudyService) -> None:
    """Counts, generation, last update and models of the workspace (or why there is none)."""
    settings = service.settings
    st.subheader("Workspace")
    st.caption(render.md_text(f"{Path(settings.workspace).resolve()}"))
    try:
        manifest = service.workspace.read_manifest()
    except WorkspaceError as exc:
        st.info(render.md_text(str(exc)), icon=":material/folder_off:")
        manifest = None
    if manifest is not None:
        counts = manifest.counts
        edges = counts.get("edges", {})
        cols = st.columns(5)
        cols[0].metric("Files", counts.get("files", 0))
        cols[1].metric("Chunks", counts.get("chunks", 0))
        cols[2].metric("Concepts", counts.get("concepts", 0))
        cols[3].metric("Edges", sum(edges.values()) if isinstance(edges, dict) else edges)
        cols[4].metric("Generation", manifest.generation)
        if isinstance(edges, dict) and edges:
            st.caption(render.md_text(" · ".join(f"{k}: {v}" for k, v in sorted(edges.items()))))
        st.caption(render.md_text(f"Last update {manifest.updated} · built with embedder "
                                  f"{manifest.embedder.get('name', '?')} ({manifest.embedder.get('dim', '?')}-d)"))
    st.caption(render.md_text(f"Models: embedder {settings.embedder.model} · LLM {settings.llm.model} "
                              f"({settings.llm.backend})"))


STAGES = {"read": "Reading notes", "embed": "Embedding passages", "tokenize": "Indexing words",
          "graph": "Building the concept graph"}


def progress_bar() -> tuple[DeltaGenerator, Callable[[str, int, int], None]]:
    """An `st.progress` bar and the pipeline's progress(stage, done, total) callback that drives it."""
    bar = st.progress(0.0, text="Starting…")

    def progress(stage: str, done: int, total: int) -> None:
        label = STAGES.get(stage, stage)
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{label}: {done}/{total}")

    return bar, progress


def run_ingest(service: StudyService, paths: list[Path], notes: list[str] | None = None) -> None:
    """Ingest with a progress bar, then redraw the page on the new generation with the summary on top."""
    from ingest.pipeline import ingest_paths

    bar, progress = progress_bar()
    report = ingest_paths(paths, service.settings, embedder=service.embedder, progress=progress)
    bar.progress(1.0, text=f"Done in {report.seconds:.1f} s")
    st.session_state[SUMMARY_KEY] = (report, notes or [])
    st.session_state.pop(REMOVED_KEY, None)
    refresh_service()
    st.rerun()


def show_summary(report: IngestReport, notes: list[str]) -> None:
    """Files, repaired, skipped with reasons, chunks, concepts and edges of the last ingest."""
    for note in notes:
        st.caption(render.md_text(note))
    if report.written:
        st.success(f"Ingested: workspace generation {report.generation}.", icon=":material/check_circle:")
    else:
        st.info("Nothing changed: the workspace already holds these notes.", icon=":material/check_circle:")
    cols = st.columns(6)
    cols[0].metric("Files read", report.read)
    cols[1].metric("Unchanged", report.unchanged)
    cols[2].metric("Repaired", len(report.repaired))
    cols[3].metric("Chunks", report.chunks)
    cols[4].metric("Concepts", report.concepts)
    cols[5].metric("Edges", sum(report.edges.values()))
    for item in report.repaired:
        st.caption(render.md_text(f"Repaired {item.get('path', '?')}: {item.get('repair', '')}"))
    for item in report.skipped:
        st.warning(render.md_text(f"Skipped {item.get('path', '?')}: {item.get('reason', '')}"),
                   icon=":material/block:")
    for source in report.dropped:
        st.caption(render.md_text(f"Removed {source} (no longer in its folder)"))


def run_removal(service: StudyService, source: str) -> None:
    """Remove one note from the workspace (its file stays), then redraw the page on the new generation."""
    from ingest.pipeline import remove_notes

    _, progress = progress_bar()
    report = remove_notes([source], service.settings, embedder=service.embedder, progress=progress)
    st.session_state[REMOVED_KEY] = report
    st.session_state.pop(SUMMARY_KEY, None)
    refresh_service()
    st.rerun()


def show_removal(report: IngestReport) -> None:
    """What the last removal took out and what the workspace holds now."""
    names = ", ".join(report.dropped)
    st.success(render.md_text(f"Removed {names} ({report.index.get('removed', 0)} chunks) from the workspace; "
                              "the file is untouched, ingest it again to bring it back."),
               icon=":material/delete:")
    st.caption(f"Generation {report.generation}: {report.unchanged} notes, {report.chunks} chunks, "
               f"{report.concepts} concepts, {sum(report.edges.values())} edges.")


def note_row(service: StudyService, note: IngestedNote) -> None:
    """One note: name, chunks, repairs, when it was read, its file, and a remove button."""
    name, info, action = st.columns([3, 5, 1.4], vertical_alignment="center")
    name.markdown(f"**{render.md_text(note.source)}**")
    facts = [f"{note.chunks} chunks", f"read {_when(note.ingested)}" if note.ingested else "", *note.repairs]
    info.caption(render.md_text(" · ".join(f for f in facts if f)) + "  \n" + render.md_text(note.path))
    if action.button("Remove", key=f"remove-{note.source}", icon=":material/delete:",
                     help="Take this note out of the workspace (the file itself is not touched)."):
        run_removal(service, note.source)


def _when(iso: str) -> str:
    """`2026-05-01 09:30 UTC` from an ISO time (as written by ingest), or the text as it is."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def note_list(service: StudyService) -> None:
    """Every ingested note, each with a remove button (nothing when there is no workspace yet)."""
    from ingest.pipeline import list_notes

    try:
        notes = list_notes(service.settings)
    except WorkspaceError:  # the status above already says what to do
        return
    st.subheader(f"Ingested notes ({len(notes)})")
    with st.container(height=LIST_HEIGHT_PX if len(notes) > 8 else "content", border=False):
        for note in notes:
            note_row(service, note)


def ingest_folder(service: StudyService) -> None:
    """A form that ingests a folder or file on this computer."""
    st.subheader("Ingest a folder or file")
    with st.form("ingest_folder"):
        folder = st.text_input("Path on this computer", placeholder="e.g. data/notes or ~/notes")
        submitted = st.form_submit_button("Ingest", icon=":material/upload_file:")
    if submitted:
        path = Path(folder.strip()).expanduser()
        if not folder.strip():
            st.warning("Type a folder or file path first.")
            return
        if not path.exists():
            raise InputError(f"{path} does not exist; type the path of a folder or a Markdown file.")
        run_ingest(service, [path])


def ingest_uploads(service: StudyService) -> None:
    """A form that saves uploaded notes under the workspace and ingests them."""
    settings = service.settings
    limit = settings.ui.max_upload_mb
    st.subheader("Upload Markdown notes")
    with st.form("ingest_uploads", clear_on_submit=True):
        files = st.file_uploader(f"Markdown files (up to {limit:g} MB each)", accept_multiple_files=True,
                                 type=[e.lstrip(".") for e in settings.ingest.extensions])
        submitted = st.form_submit_button("Save and ingest", icon=":material/cloud_upload:")
    if submitted and files:
        saved = save_uploads(((f.name, f.getvalue()) for f in files), Path(settings.workspace),
                             int(limit * 1_048_576), settings.ingest.extensions)
        for name, reason in saved.refused:
            st.warning(render.md_text(f"Refused {name}: {reason}"), icon=":material/block:")
        notes = [f"Saved {UPLOADS_DIR}/{p.name}" for p in saved.saved]
        notes += [f"Already saved as {UPLOADS_DIR}/{p.name}" for p in saved.unchanged]
        notes += [f"Refused {name}: {reason}" for name, reason in saved.refused]
        if saved.saved or saved.unchanged:
            run_ingest(service, [Path(settings.workspace) / UPLOADS_DIR], notes)


def main() -> None:
    """The page: workspace status, the last change's summary, the ingested notes, and the two ways to add notes."""
    st.title("Notes")
    with shows_errors():
        service = get_service()
        workspace_status(service)
        if SUMMARY_KEY in st.session_state:
            show_summary(*st.session_state[SUMMARY_KEY])
        elif REMOVED_KEY in st.session_state:
            show_removal(st.session_state[REMOVED_KEY])
        note_list(service)
        left, right = st.columns(2, gap="large")
        with left:
            ingest_folder(service)
        with right:
            ingest_uploads(service)


if __name__ == "__main__":
    main()

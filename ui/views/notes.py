"""Notes page: workspace status, and ingesting a folder or uploaded Markdown files with progress."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from assistant.service import StudyService
from studygraph.errors import InputError, WorkspaceError
from ui.views import render
from ui.views.state import get_service, refresh_service, shows_errors
from ui.views.uploads import UPLOADS_DIR, save_uploads

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

SUMMARY_KEY = "notes_last_summary"


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


def run_ingest(service: StudyService, paths: list[Path], notes: list[str] | None = None) -> None:
    """Ingest with a progress bar, then redraw the page on the new generation with the summary on top."""
    from ingest.pipeline import ingest_paths

    bar = st.progress(0.0, text="Starting…")

    def progress(stage: str, done: int, total: int) -> None:
        label = STAGES.get(stage, stage)
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{label}: {done}/{total}")

    report = ingest_paths(paths, service.settings, embedder=service.embedder, progress=progress)
    bar.progress(1.0, text=f"Done in {report.seconds:.1f} s")
    st.session_state[SUMMARY_KEY] = (report, notes or [])
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
    """The page: workspace status, the last ingest's summary, and the two ways to add notes."""
    st.title("Notes")
    with shows_errors():
        service = get_service()
        workspace_status(service)
        if SUMMARY_KEY in st.session_state:
            show_summary(*st.session_state[SUMMARY_KEY])
        left, right = st.columns(2, gap="large")
        with left:
            ingest_folder(service)
        with right:
            ingest_uploads(service)


if __name__ == "__main__":
    main()

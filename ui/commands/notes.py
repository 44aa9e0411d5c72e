"""`studygraph notes` and `studygraph remove PATH...`: what the workspace holds, and taking notes out of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ui.cli_common import (
    ConfigOpt,
    JsonOpt,
    WorkspaceOpt,
    command,
    console,
    print_json,
    print_rows,
    progress_bar,
    settings_from,
)

if TYPE_CHECKING:
    from ingest.catalog import IngestedNote
    from ingest.pipeline import IngestReport


def _print_notes(notes: list[IngestedNote]) -> None:
    """A table on a terminal; one tab-separated row a note when piped (name, chunks, repairs, ingested, path)."""
    if not console.is_terminal:
        print_rows((n.source, n.chunks, "; ".join(n.repairs), n.ingested, n.path) for n in notes)
        return
    table = Table(title=f"{len(notes)} notes, {sum(n.chunks for n in notes)} chunks")
    for col in ("note", "chunks", "repairs", "ingested", "file"):
        table.add_column(col, overflow="fold")
    for n in notes:
        table.add_row(escape(n.source), str(n.chunks), escape("; ".join(n.repairs)), n.ingested or "-",
                      escape(n.path))
    console.print(table)


def removal_json(report: IngestReport) -> dict:
    """The `studygraph remove --json` object."""
    return {"workspace": report.workspace, "removed": report.dropped,
            "chunks_removed": report.index.get("removed", 0), "notes": report.unchanged, "chunks": report.chunks,
            "concepts": report.concepts, "edges": dict(report.edges), "generation": report.generation,
            "seconds": round(report.seconds, 3)}


def register(app: typer.Typer) -> None:
    """Add `notes` and `remove` to the CLI."""

    @command(app, "notes")
    def notes_cmd(workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """List the ingested notes: name, chunks, repairs, when each was read, and its file.

        Piped (not a terminal), each note is one tab-separated line: name, chunks, repairs, ingested, file.
        """
        from ingest.pipeline import list_notes

        notes = list_notes(settings_from(config, workspace))
        if as_json:
            print_json(notes)
        else:
            _print_notes(notes)

    @command(app, "remove")
    def remove_cmd(
        paths: Annotated[list[str], typer.Argument(
            help="Notes to remove: names as `studygraph notes` lists them, their files, or folders of them.")],
        workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
    ) -> None:
        """Remove notes from the workspace (passages, vectors, concepts and edges); your files are not touched."""
        from ingest.pipeline import remove_notes

        with progress_bar(enabled=not as_json) as progress:
            report = remove_notes(paths, settings_from(config, workspace), progress=progress)
        if as_json:
            print_json(removal_json(report))
            return
        for source in report.dropped:
            console.print(f"removed {escape(source)}", highlight=False)
        edges = sum(report.edges.values())
        console.print(f"{_count(len(report.dropped), 'note')} and {_count(report.index.get('removed', 0), 'chunk')} "
                      f"removed; generation {report.generation} holds {_count(report.unchanged, 'note')}, "
                      f"{_count(report.chunks, 'chunk')}, {_count(report.concepts, 'concept')} and "
                      f"{_count(edges, 'edge')}. Your files were not touched.", highlight=False)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")

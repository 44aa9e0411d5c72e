"""`studygraph ingest PATH...`: read notes into the workspace, with a progress bar and a summary."""

from __future__ import annotations

from pathlib import Path
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
    progress_bar,
    settings_from,
)

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport


def render_report(report: IngestReport) -> None:
    """The summary table, then what was skipped or repaired."""
    table = Table(title="studygraph ingest", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    edges = ", ".join(f"{t} {n}" for t, n in report.edges.items() if n) or "0"
    for what, value in (
        ("workspace", report.workspace), ("files read", report.read), ("unchanged", report.unchanged),
        ("removed", len(report.dropped)), ("skipped", len(report.skipped)), ("repaired", len(report.repaired)),
        ("sections", report.sections), ("chunks", report.chunks), ("concepts", report.concepts),
        ("edges", edges), ("seconds", f"{report.seconds:.1f}"),
    ):
        table.add_row(what, escape(str(value)))
    console.print(table)
    if not report.written:
        console.print(f"Nothing changed: the workspace keeps generation {report.generation}.")
    for title, rows, key in (("Skipped", report.skipped, "reason"), ("Repaired", report.repaired, "repair")):
        if rows:
            detail = Table(title=title)
            detail.add_column("path", overflow="fold")
            detail.add_column(key, overflow="fold")
            for row in rows:
                detail.add_row(escape(row["path"]), escape(row[key]))  # file names, not markup
            console.print(detail)


def register(app: typer.Typer) -> None:
    @command(app, "ingest")
    def ingest_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Note files or folders (.md, .markdown, .txt).")],
        workspace: WorkspaceOpt = None,
        config: ConfigOpt = None,
        as_json: JsonOpt = False,
        rebuild: Annotated[
            bool, typer.Option("--rebuild", help="Redo everything (needed after changing the embedder).")
        ] = False,
    ) -> None:
        """Read notes into the workspace: sections, chunks, search indexes and the concept graph."""
        from ingest.pipeline import ingest_paths

        settings = settings_from(config, workspace)
        with progress_bar(enabled=not as_json) as progress:  # drawn on a terminal only
            report = ingest_paths(paths, settings, progress=progress, rebuild=rebuild)
        if as_json:
            print_json(report.to_json())
        else:
            render_report(report)

"""`studygraph concepts`, `studygraph concept NAME` and `studygraph graph export`: the concept graph, read-only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from studygraph.errors import InputError
from ui.cli_common import (
    ConfigOpt,
    JsonOpt,
    WorkspaceOpt,
    command,
    console,
    print_json,
    print_rows,
    settings_from,
)

if TYPE_CHECKING:
    from assistant.service import StudyService
    from kg.detail import ConceptDetail
    from kg.graph import ConceptGraph


def _service(config: Path | None, workspace: Path | None) -> StudyService:
    from assistant.service import StudyService

    return StudyService(settings_from(config, workspace))


def _print_concepts(graph: ConceptGraph) -> None:
    """A table on a terminal; one tab-separated row a concept when piped (name, aliases, chapter, importance)."""
    concepts = graph.concepts
    if not console.is_terminal:
        print_rows((c.name, ", ".join(c.aliases), c.chapter, f"{c.importance:.2f}") for c in concepts)
        return
    table = Table(title=f"{len(concepts)} concepts")
    for col in ("name", "aliases", "chapter", "importance"):
        table.add_column(col, overflow="fold")
    for c in concepts:
        table.add_row(escape(c.name), escape(", ".join(c.aliases[:4])), escape(c.chapter), f"{c.importance:.2f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `concepts`, `concept` and `graph export` to the app."""
    graph_app = typer.Typer(help="The concept graph: export it for other tools.", no_args_is_help=True)
    app.add_typer(graph_app, name="graph")

    @command(app, "concepts")
    def concepts_cmd(workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """List the concepts of your notes, in reading order, with their chapter and importance.

        Piped (not a terminal), each concept is one tab-separated line: name, aliases, chapter, importance.
        """
        graph = _service(config, workspace).graph
        if as_json:
            print_json([{"id": c.id, "name": c.name, "aliases": list(c.aliases), "chapter": c.chapter,
                         "importance": c.importance} for c in graph.concepts])
            return
        _print_concepts(graph)

    @command(app, "concept")
    def concept_cmd(name: Annotated[str, typer.Argument(help="A concept name, any alias, either language.")],
                    workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """Show one concept: its prerequisites, dependents, tools, parts, related concepts and sources."""
        from kg.detail import concept_detail

        service = _service(config, workspace)
        found = service.resolver.resolve(name)
        if found.concept_id is None:
            hint = ", ".join(found.suggestions) or "no close name"
            if as_json:
                print_json({"query": name, "concept": None, "suggestions": list(found.suggestions)})
            raise InputError(f"No concept named '{name}' in your notes (did you mean: {hint}?). "
                             "Run `studygraph concepts` to list them.")
        detail = concept_detail(service.graph, service.chunks, found.concept_id)
        if as_json:
            print_json(detail)
            return
        _print_detail(detail, found.how)

    @command(graph_app, "export")
    def export_cmd(fmt: Annotated[str, typer.Option("--format", "-f", help="json, graphml or mermaid.")] = "json",
                   output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
                   workspace: WorkspaceOpt = None, config: ConfigOpt = None) -> None:
        """Export the graph (nodes with ids and names; edges with type, weight and evidence)."""
        from kg.export import export_graph

        text = export_graph(_service(config, workspace).graph, fmt.lower())
        if output is None:
            typer.echo(text, nl=False)
            return
        from studygraph.workspace import atomic_write_text

        atomic_write_text(output, text)
        console.print(f"Wrote {output}")


_TITLES = {"prerequisites": "learn first", "dependents": "leads to", "uses": "uses", "used_in": "used in",
           "part_of": "part of", "parts": "parts", "related": "related"}


def _print_detail(detail: ConceptDetail, how: str) -> None:
    via = "" if how == "exact" else f" (matched by {how})"
    console.print(f"[bold]{escape(detail.name)}[/]{via}  chapter: {escape(detail.chapter or '-')}", highlight=False)
    if detail.aliases:
        console.print("aliases: " + escape(", ".join(detail.aliases)), highlight=False)
    for key, title in _TITLES.items():
        linked = getattr(detail, key)
        if linked:
            items = ", ".join(f"{i.concept} ({i.weight:.2f}; {i.evidence[0].rule if i.evidence else '-'})"
                              for i in linked)
            console.print(f"{title}: {escape(items)}", highlight=False)
    for src in detail.sources:
        heading = " > ".join(src.heading_path)
        console.print(f"  source: {escape(src.source)} § {escape(heading)} (lines {src.line_start}–{src.line_end})",
                      highlight=False)

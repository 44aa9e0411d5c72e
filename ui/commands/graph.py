"""`studygraph concepts`, `studygraph concept NAME` and `studygraph graph export`: the concept graph, read-only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from studygraph.errors import InputError
from ui.cli_common import ConfigOpt, JsonOpt, WorkspaceOpt, command, console, print_json, settings_from

if TYPE_CHECKING:
    from assistant.service import StudyService
    from kg.graph import ConceptGraph
    from studygraph.records import Edge

EXPORT_FORMATS = ("json", "graphml", "mermaid")
_MERMAID_ARROWS = {"prerequisite": "-->", "used_in": "-.->", "part_of": "--o", "related": "---"}


def _service(config: Path | None, workspace: Path | None) -> StudyService:
    from assistant.service import StudyService

    return StudyService(settings_from(config, workspace))


def _edge_item(graph: ConceptGraph, edge: Edge, other: str) -> dict[str, Any]:
    return {
        "concept": graph.concept(other).name,
        "concept_id": other,
        "weight": edge.weight,
        "evidence": [{"chunk_id": ev.chunk_id, "rule": ev.rule, "detail": ev.detail} for ev in edge.evidence],
    }


def concept_detail(service: StudyService, concept_id: str) -> dict[str, Any]:
    """Everything about one concept: names, its edges of each type (with evidence), and where it is defined."""
    graph = service.graph
    concept = graph.concept(concept_id)

    def incoming(type_: str) -> list[dict[str, Any]]:
        return [_edge_item(graph, e, e.source) for e in sorted(graph.in_edges(concept_id, type_), key=_by_weight)]

    def outgoing(type_: str) -> list[dict[str, Any]]:
        return [_edge_item(graph, e, e.target) for e in sorted(graph.out_edges(concept_id, type_), key=_by_weight)]

    sources = []
    for chunk_id in concept.chunks:
        chunk = service.chunks.get(chunk_id)
        if chunk is not None:
            sources.append({"chunk_id": chunk.id, "source": chunk.source, "heading_path": list(chunk.heading_path),
                            "line_start": chunk.line_start, "line_end": chunk.line_end})
    return {
        "id": concept.id, "name": concept.name, "aliases": list(concept.aliases), "chapter": concept.chapter,
        "importance": concept.importance,
        "prerequisites": incoming("prerequisite"), "dependents": outgoing("prerequisite"),
        "uses": incoming("used_in"), "used_in": outgoing("used_in"),
        "part_of": outgoing("part_of"), "parts": incoming("part_of"),
        "related": [_edge_item(graph, e, e.target) for e in graph.related(concept_id)],
        "sources": sources,
    }


def _by_weight(edge: Edge) -> tuple[float, str, str]:
    return (-edge.weight, edge.source, edge.target)


# ------------------------------------------------------------------------------------------------ export


def graph_json(graph: ConceptGraph) -> dict[str, Any]:
    """Nodes (id, name, aliases, chapter, importance, community) and edges with their evidence."""
    nodes = [{"id": c.id, "name": c.name, "aliases": list(c.aliases), "chapter": c.chapter,
              "importance": c.importance, "community": c.community} for c in graph.concepts]
    edges = [{"source": e.source, "target": e.target, "source_name": graph.concept(e.source).name,
              "target_name": graph.concept(e.target).name, "type": e.type, "weight": e.weight,
              "evidence": [ev.model_dump() for ev in e.evidence]} for e in graph.edges()]
    broken = [b.model_dump(mode="json") for b in graph.broken_cycles]
    return {"nodes": nodes, "edges": edges, "broken_cycles": broken}


def graph_graphml(graph: ConceptGraph) -> str:
    """GraphML (for Gephi, yEd, Cytoscape): scalar attributes only, evidence as a JSON string."""
    import networkx as nx

    out = nx.MultiDiGraph()
    for c in graph.concepts:
        out.add_node(c.id, name=c.name, aliases=" | ".join(c.aliases), chapter=c.chapter,
                     importance=float(c.importance), community=int(c.community))
    for e in graph.edges():
        evidence = json.dumps([ev.model_dump() for ev in e.evidence], ensure_ascii=False)
        out.add_edge(e.source, e.target, key=e.type, type=e.type, weight=float(e.weight), evidence=evidence)
    return "\n".join(nx.generate_graphml(out)) + "\n"


def _mermaid_label(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ")


def graph_mermaid(graph: ConceptGraph) -> str:
    """A Mermaid flowchart: prerequisite -->, used_in -.->, part_of --o, related ---."""
    ids = {c.id: f"c{i}" for i, c in enumerate(graph.concepts)}
    lines = ["graph LR"]
    lines += [f'  {ids[c.id]}["{_mermaid_label(c.name)}"]' for c in graph.concepts]
    for e in graph.edges():
        lines.append(f"  {ids[e.source]} {_MERMAID_ARROWS[e.type]}|{e.type}| {ids[e.target]}")
    return "\n".join(lines) + "\n"


def export_graph(graph: ConceptGraph, fmt: str) -> str:
    """The graph as text in one of EXPORT_FORMATS.

    Raises:
        InputError: an unknown format.
    """
    if fmt == "json":
        return json.dumps(graph_json(graph), ensure_ascii=False, indent=1) + "\n"
    if fmt == "graphml":
        return graph_graphml(graph)
    if fmt == "mermaid":
        return graph_mermaid(graph)
    raise InputError(f"Unknown export format '{fmt}'; use one of: {', '.join(EXPORT_FORMATS)}.")


# ------------------------------------------------------------------------------------------------ commands


def register(app: typer.Typer) -> None:
    """Add `concepts`, `concept` and `graph export` to the app."""
    graph_app = typer.Typer(help="The concept graph: export it for other tools.", no_args_is_help=True)
    app.add_typer(graph_app, name="graph")

    @command(app, "concepts")
    def concepts_cmd(workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """List the concepts of your notes, in reading order, with their chapter and importance."""
        graph = _service(config, workspace).graph
        rows = [{"id": c.id, "name": c.name, "aliases": list(c.aliases), "chapter": c.chapter,
                 "importance": c.importance} for c in graph.concepts]
        if as_json:
            print_json(rows)
            return
        table = Table(title=f"{len(rows)} concepts")
        for col in ("name", "aliases", "chapter", "importance"):
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(escape(row["name"]), escape(", ".join(row["aliases"][:4])), escape(row["chapter"] or ""),
                          f"{row['importance']:.2f}")
        console.print(table)

    @command(app, "concept")
    def concept_cmd(name: Annotated[str, typer.Argument(help="A concept name, any alias, either language.")],
                    workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """Show one concept: its prerequisites, dependents, tools, parts, related concepts and sources."""
        service = _service(config, workspace)
        found = service.resolver.resolve(name)
        if found.concept_id is None:
            hint = ", ".join(found.suggestions) or "no close name"
            if as_json:
                print_json({"query": name, "concept": None, "suggestions": list(found.suggestions)})
            raise InputError(f"No concept named '{name}' in your notes (did you mean: {hint}?). "
                             "Run `studygraph concepts` to list them.")
        detail = concept_detail(service, found.concept_id)
        if as_json:
            print_json(detail)
            return
        _print_detail(detail, found.how)

    @command(graph_app, "export")
    def export_cmd(fmt: Annotated[str, typer.Option("--format", "-f", help="json, graphml or mermaid.")] = "json",
                   output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
                   workspace: WorkspaceOpt = None, config: ConfigOpt = None) -> None:
        """Export the graph (nodes with ids and names; edges with type, weight and evidence)."""
        text = export_graph(_service(config, workspace).graph, fmt.lower())
        if output is None:
            typer.echo(text, nl=False)
            return
        from studygraph.workspace import atomic_write_text

        atomic_write_text(output, text)
        console.print(f"Wrote {output}")


def _print_detail(detail: dict[str, Any], how: str) -> None:
    via = "" if how == "exact" else f" (matched by {how})"
    console.print(f"[bold]{escape(detail['name'])}[/]{via}  chapter: {escape(detail['chapter'] or '-')}", highlight=False)
    if detail["aliases"]:
        console.print("aliases: " + escape(", ".join(detail["aliases"])), highlight=False)
    for key, title in (("prerequisites", "learn first"), ("dependents", "leads to"), ("uses", "uses"),
                       ("used_in", "used in"), ("part_of", "part of"), ("parts", "parts"), ("related", "related")):
        if detail[key]:
            items = ", ".join(f"{i['concept']} ({i['weight']:.2f}; {i['evidence'][0]['rule']})" for i in detail[key])
            console.print(f"{title}: {escape(items)}", highlight=False)
    for src in detail["sources"]:
        heading = " > ".join(src["heading_path"])
        console.print(f"  source: {escape(src['source'])} § {escape(heading)} (lines {src['line_start']}–{src['line_end']})",
                      highlight=False)

"""The concept graph as text for other tools: node-link JSON, GraphML (Gephi, yEd, Cytoscape) and Mermaid."""

from __future__ import annotations

import json
from typing import Any

from kg.graph import ConceptGraph
from studygraph.errors import InputError

EXPORT_FORMATS = ("json", "graphml", "mermaid")
_MERMAID_ARROWS = {"prerequisite": "-->", "used_in": "-.->", "part_of": "--o", "related": "---"}


def graph_json(graph: ConceptGraph) -> dict[str, Any]:
    """Nodes (id, name, aliases, chapter, importance, community), edges with their evidence, broken cycles."""
    nodes = [{"id": c.id, "name": c.name, "aliases": list(c.aliases), "chapter": c.chapter,
              "importance": c.importance, "community": c.community} for c in graph.concepts]
    edges = [{"source": e.source, "target": e.target, "source_name": graph.concept(e.source).name,
              "target_name": graph.concept(e.target).name, "type": e.type, "weight": e.weight,
              "evidence": [ev.model_dump() for ev in e.evidence]} for e in graph.edges()]
    broken = [b.model_dump(mode="json") for b in graph.broken_cycles]
    return {"nodes": nodes, "edges": edges, "broken_cycles": broken}


def graph_graphml(graph: ConceptGraph) -> str:
    """GraphML: scalar attributes only, each edge's evidence as a JSON string."""
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

"""Concept graph page: an interactive network with filters and a panel for the selected concept."""

from __future__ import annotations

import html
from dataclasses import dataclass

import streamlit as st

from assistant.service import StudyService
from kg.graph import ConceptGraph
from kg.names import normalize_name
from studygraph.records import EDGE_TYPES, Concept, Edge, EdgeType
from ui.views import render
from ui.views.concept_panel import concept_panel
from ui.views.state import get_service, shows_errors, workspace_ready

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#8cd17d", "#499894", "#d37295", "#a0cbe8", "#ffbe7d", "#86bcb6", "#bab0ac")
EDGE_STYLE: dict[str, dict] = {
    "prerequisite": {"color": "#d1495b", "dashes": False, "arrows": "to", "width": 2.5},
    "used_in": {"color": "#00798c", "dashes": False, "arrows": "to", "width": 2},
    "part_of": {"color": "#8d99ae", "dashes": [2, 4], "arrows": "to", "width": 1.5},
    "related": {"color": "#c9c9c9", "dashes": [8, 6], "arrows": "", "width": 1},
}
EDGE_MEANING = {
    "prerequisite": "learn A before B",
    "used_in": "A is a tool used in B",
    "part_of": "A is a part of B",
    "related": "similar content",
}
SELECTED_KEY = "graph_concept"
GAP_NOTE = "\n(named in your notes but never explained: a gap)"
PENDING_KEY = "graph_pending"  # a selection made after the selectbox was drawn (node click, panel link)


@dataclass(frozen=True)
class GraphView:
    """The concepts and edges to draw."""

    concepts: list[Concept]
    edges: list[Edge]
    truncated: int = 0
    hubs: frozenset[str] = frozenset()  # cluster hubs of the overview (drawn larger)

    @property
    def overview(self) -> bool:
        return bool(self.hubs)


def chapters_of(graph: ConceptGraph) -> list[str]:
    """Chapters in the notes' reading order."""
    return list(dict.fromkeys(c.chapter for c in graph.concepts if c.chapter))


def build_view(graph: ConceptGraph, selected: str | None, depth: int, types: list[EdgeType],
               chapters: list[str], max_nodes: int) -> GraphView:
    """The neighbourhood of the selected concept (or the most important concepts), filtered.

    Args:
        graph: the concept graph.
        selected: the concept whose neighbourhood is drawn; None draws the whole (filtered) graph.
        depth: hops around the selected concept.
        types: edge types to follow and draw.
        chapters: keep only concepts of these chapters (the selected one always stays); empty keeps all.
        max_nodes: draw at most this many concepts, the most important first.
    """
    wanted = set(chapters)
    if selected is not None and selected in graph:
        ids = graph.neighbourhood(selected, depth, types)
    else:
        ids = set(graph.g.nodes)
    concepts = [graph.concept(i) for i in ids
                if not wanted or graph.concept(i).chapter in wanted or i == selected]
    concepts.sort(key=lambda c: (c.id != selected, -c.importance, c.order))
    truncated = max(0, len(concepts) - max_nodes)
    concepts = sorted(concepts[:max_nodes], key=lambda c: c.order)
    kept = {c.id for c in concepts}
    edges = [e for t in types for e in graph.edges(t) if e.source in kept and e.target in kept]
    return GraphView(concepts, edges, truncated)


OVERVIEW_PER_GROUP = 2  # most important concepts labelled per chapter (community) in the overview, beside its hub
OVERVIEW_MIN = 80  # a graph this small is drawn whole: its labels stay readable without an overview
OVERVIEW_GROUPS = 16  # chapters drawn in the overview (the palette's size), the most important first


def _group_of(concept: Concept, colour_by: str) -> str:
    return str(concept.community) if colour_by == "community" else (concept.chapter or "—")


def overview_view(graph: ConceptGraph, colour_by: str = "chapter", per_group: int = OVERVIEW_PER_GROUP) -> GraphView:
    """The default picture: each chapter (or community) as a cluster around its hub, the concept that names the
    chapter (else its most important one), with its most important concepts; every drawn node is labelled.

    Members are joined to their hub so the layout groups them; edges of the graph between drawn concepts are
    drawn too. What is left out is counted in `truncated` (open a chapter or a concept to see all of it).
    """
    groups: dict[str, list[Concept]] = {}
    for concept in sorted(graph.concepts, key=lambda c: (-c.importance, c.order)):
        groups.setdefault(_group_of(concept, colour_by), []).append(concept)
    ranked = sorted(groups.items(), key=lambda kv: -sum(c.importance for c in kv[1]))[:OVERVIEW_GROUPS]
    shown: list[Concept] = []
    hubs: dict[str, str] = {}
    links: list[Edge] = []
    for group, members in ranked:
        key = normalize_name(group)
        hub = next((c for c in members if key in {normalize_name(n) for n in (c.name, *c.aliases)}),
                   next((c for c in members if len(normalize_name(c.name)) >= 2 and normalize_name(c.name) in key),
                        members[0]))
        hubs[hub.id] = group
        picked = [hub] + [c for c in members if c.id != hub.id][:per_group]
        shown += picked
        links += [Edge(source=c.id, target=hub.id, type="part_of", weight=0.5) for c in picked[1:]]
    kept = {c.id for c in shown}
    edges = [e for t in ("prerequisite", "used_in") for e in graph.edges(t) if e.source in kept and e.target in kept]
    linked = {(e.source, e.target) for e in edges}
    edges += [e for e in links if (e.source, e.target) not in linked]
    return GraphView(sorted(shown, key=lambda c: c.order), edges, truncated=len(graph) - len(shown),
                     hubs=frozenset(hubs))


def colour_of(concept: Concept, colour_by: str, chapters: list[str]) -> str:
    """The palette colour of a concept's chapter or community."""
    if colour_by == "community":
        return PALETTE[concept.community % len(PALETTE)]
    index = chapters.index(concept.chapter) if concept.chapter in chapters else len(PALETTE) - 1
    return PALETTE[index % len(PALETTE)]


def tooltip(concept: Concept) -> str:
    """Hover text. streamlit-agraph parses node titles as HTML (and opens them as a URL on double click),
    so the text is escaped and starts with a character that cannot begin a URL scheme."""
    lines = [f"◆ {concept.name}"]
    if concept.aliases:
        lines.append("aka " + ", ".join(concept.aliases[:4]))
    if concept.chapter:
        lines.append(concept.chapter)
    lines.append(f"importance {concept.importance:.2f}")
    return html.escape("\n".join(lines))


# Label sizes in graph units: the fitted zoom of the seed's overview on a 1440x1000 window is 0.5-0.6 (it varies
# with the layout), so 26 shows as 13-15 px, above the 12 px a reader needs (tests/test_ui_graph_browser.py
# measured 11.9-14 px at 24).
LABEL_PX = 26
HUB_LABEL_PX = 30


def _font(concept: Concept, view: GraphView, selected: str | None) -> dict:
    size = HUB_LABEL_PX if concept.id in view.hubs or concept.id == selected else LABEL_PX
    return {"size": size, "face": "sans-serif", "strokeWidth": 3, "strokeColor": "#ffffff",
            "bold": concept.id in view.hubs}


def node_colour(concept: Concept, colour_by: str, chapters: list[str], gaps: frozenset[str]) -> str | dict:
    """The fill of a node; a concept the notes name but never explain is hollow (white, coloured border)."""
    colour = colour_of(concept, colour_by, chapters)
    if concept.id in gaps:
        return {"background": "#ffffff", "border": colour, "highlight": {"background": "#ffffff", "border": colour}}
    return colour


def draw(view: GraphView, selected: str | None, colour_by: str, chapters: list[str],
         gaps: frozenset[str] = frozenset()) -> str | None:
    """Draw the network (gaps as hollow nodes); returns the id of the node the user clicked last."""
    from streamlit_agraph import Config, agraph
    from streamlit_agraph import Edge as AEdge
    from streamlit_agraph import Node as ANode

    nodes = [ANode(id=c.id, label=c.name, title=tooltip(c) + (GAP_NOTE if c.id in gaps else ""),
                   size=12 + 28 * c.importance, color=node_colour(c, colour_by, chapters, gaps),
                   shape="diamond" if c.id == selected else "box" if c.id in view.hubs else "dot",
                   borderWidth=4 if c.id == selected else 3 if c.id in gaps else 1,
                   font=_font(c, view, selected),
                   scaling={"label": {"drawThreshold": 1}})  # every drawn node keeps its label
             for c in view.concepts]
    edges = [AEdge(source=e.source, target=e.target, title=e.type, **EDGE_STYLE[e.type]) for e in view.edges]
    # A compact layout keeps the fitted zoom near 1, so LABEL_PX is about what the reader sees.
    config = Config(height=680, width=900, directed=True, physics=True, hierarchical=False,
                    stabilization=True, fit=True, solver="forceAtlas2Based", minVelocity=2)
    config.layout["randomSeed"] = 7  # the same notes give the same picture
    config.physics["forceAtlas2Based"] = {"springLength": 70, "gravitationalConstant": -45, "centralGravity": 0.015,
                                          "avoidOverlap": 0.8}
    config.width = "100%"
    return agraph(nodes=nodes, edges=edges, config=config)


def legend(view: GraphView, colour_by: str, chapters: list[str], gaps: frozenset[str] = frozenset()) -> None:
    """Edge styles and their meaning, hollow gap nodes, then the colours of the chapters (or communities)."""
    chips = []
    if gaps & {c.id for c in view.concepts}:
        chips.append('<span class="sg-chip">○ named in your notes but never explained (see the Gaps page)</span>')
    for edge_type, style in EDGE_STYLE.items():
        line = "dashed" if style["dashes"] else "solid"
        arrow = "A → B" if style["arrows"] else "A — B"
        chips.append(f'<span class="sg-chip" style="border: 2px {line} {style["color"]}">'
                     f"<b>{edge_type}</b> {arrow}: {EDGE_MEANING[edge_type]}</span>")
    shown = {c.chapter for c in view.concepts} if colour_by == "chapter" else {c.community for c in view.concepts}
    groups = [c for c in chapters if c in shown] if colour_by == "chapter" else sorted(shown)
    for group in groups[:len(PALETTE)]:
        sample = next(c for c in view.concepts if (c.chapter if colour_by == "chapter" else c.community) == group)
        name = group if colour_by == "chapter" else f"community {group}"
        chips.append(f'<span class="sg-chip"><span style="color:{colour_of(sample, colour_by, chapters)}">●</span> '
                     f"{html.escape(str(name))}</span>")
    st.html("<div>" + "".join(chips) + "</div>")


def controls(service: StudyService, graph: ConceptGraph, chapters: list[str]) -> dict:
    """Filters, search and the concept selector, in the sidebar."""
    if PENDING_KEY in st.session_state:
        st.session_state[SELECTED_KEY] = st.session_state.pop(PENDING_KEY)
    names = {c.id: c.name for c in graph.concepts}
    with st.sidebar:
        st.subheader("Explore")
        query = st.text_input("Find a concept", key="graph_query", placeholder="e.g. LoRA, 注意力机制")
        matches = find_concepts(service, graph, query) if query.strip() else list(names)
        current = st.session_state.get(SELECTED_KEY)
        options = [None] + ([current] if current in names and current not in matches else []) + matches
        if query.strip() and not matches:
            st.caption("No concept matches that name.")
        selected = st.selectbox("Concept", options, key=SELECTED_KEY,
                                format_func=lambda i: "— whole graph —" if i is None else names.get(i, i))
        depth = st.slider("Neighbourhood depth", 1, 4, 2, key="graph_depth", disabled=selected is None)
        types = st.multiselect("Edge types", list(EDGE_TYPES), default=list(EDGE_TYPES), key="graph_types")
        chosen_chapters = st.multiselect("Chapters", chapters, key="graph_chapters",
                                         placeholder="all chapters")
        colour_by = st.radio("Colour by", ["chapter", "community"], horizontal=True, key="graph_colour")
        overview = st.toggle("Overview: chapters as clusters", value=True, key="graph_overview",
                             disabled=selected is not None or bool(chosen_chapters),
                             help="The most important concepts of each chapter (or community). Pick a chapter or "
                                  "a concept to see every concept there.")
        max_nodes = st.slider("Most concepts drawn", 10, 400, 100, step=10, key="graph_max",
                              help="The most important concepts are drawn first.")
    return {"selected": selected, "depth": depth, "types": types, "chapters": chosen_chapters,
            "colour_by": colour_by, "max_nodes": max_nodes, "overview": overview}


def find_concepts(service: StudyService, graph: ConceptGraph, query: str) -> list[str]:
    """Concept ids for a typed name: the resolver's match (any alias, either language, fuzzy), the names it
    suggests, then names and aliases that contain the text."""
    resolution = service.resolver.resolve(query)
    found = [resolution.concept_id] if resolution.concept_id else []
    by_name = {c.name: c.id for c in graph.concepts}
    found += [by_name[n] for n in resolution.suggestions if n in by_name]
    needle = query.strip().casefold()
    found += [c.id for c in graph.concepts if any(needle in n.casefold() for n in (c.name, *c.aliases))]
    return list(dict.fromkeys(found))


def main() -> None:
    """The page: filters in the sidebar, the network on the left, the selected concept's panel on the right."""
    st.title("Concept graph")
    st.html(render.STYLE)
    with shows_errors():
        service = get_service()
        if not workspace_ready(service):
            return
        graph = service.graph
        if not len(graph):
            st.info("The graph is empty: no concepts were found in the notes.")
            return
        chapters = chapters_of(graph)
        opts = controls(service, graph, chapters)
        if opts["selected"] is None and not opts["chapters"] and opts["overview"] and len(graph) > OVERVIEW_MIN:
            view = overview_view(graph, opts["colour_by"])
        else:
            view = build_view(graph, opts["selected"], opts["depth"], opts["types"], opts["chapters"],
                              opts["max_nodes"])
        left, right = st.columns([2, 1], gap="medium")
        with left:
            counts = f"{len(view.concepts)} concepts, {len(view.edges)} edges"
            if view.overview:
                counts = (f"Overview: {len(view.hubs)} clusters, {len(view.concepts)} concepts "
                          f"({view.truncated} more: pick a chapter or a concept to see them)")
            elif view.truncated:
                counts += f" ({view.truncated} less important concepts not drawn)"
            st.caption(counts + " · click a node to open it")
            gaps = service.gap_concept_ids
            clicked = draw(view, opts["selected"], opts["colour_by"], chapters, gaps)
            legend(view, opts["colour_by"], chapters, gaps)
        if clicked and clicked != st.session_state.get("graph_last_click"):
            st.session_state["graph_last_click"] = clicked
            if clicked in graph and clicked != opts["selected"]:
                st.session_state[PENDING_KEY] = clicked
                st.rerun()
        with right:
            if opts["selected"] is None:
                st.info("Select a concept (click a node, or pick one in the sidebar) to see its prerequisites, "
                        "dependents, uses and the passages that define it.", icon=":material/touch_app:")
            else:
                concept_panel(service, graph, opts["selected"], PENDING_KEY)


if __name__ == "__main__":
    main()

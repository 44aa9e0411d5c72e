"""The panel of one concept: aliases, defining passages, and every edge with its evidence."""

from __future__ import annotations

import streamlit as st

from assistant.service import StudyService
from kg.graph import ConceptGraph
from studygraph.records import Edge, Evidence
from ui.views import render

GOALS_KEY = "path_goals_request"  # read by the study-path page


def evidence_line(service: StudyService, evidence: Evidence) -> str:
    """`rule · file › heading · lines a–b: detail`, as escaped markdown."""
    chunk = service.chunks.get(evidence.chunk_id)
    where = (render.location(chunk.source, chunk.heading_path, chunk.line_start, chunk.line_end)
             if chunk is not None else f"chunk {evidence.chunk_id} (not in this workspace)")
    text = f"{evidence.rule} · {where}"
    detail = " ".join(evidence.detail.split())
    if detail:
        text += f": “{detail[:160]}{'…' if len(detail) > 160 else ''}”"
    return render.md_text(text)


def edge_list(service: StudyService, graph: ConceptGraph, title: str, edges: list[Edge], other: str,
              pending_key: str, key: str) -> None:
    """One expander per relation kind; each other concept can be opened, each edge shows its evidence."""
    with st.expander(f"{title} ({len(edges)})", expanded=bool(edges) and len(edges) <= 6):
        if not edges:
            st.caption("none")
        for edge in edges:
            other_id = getattr(edge, other)
            name = graph.concept(other_id).name
            cols = st.columns([4, 1])
            cols[0].markdown(f"**{render.md_text(name)}** · weight {edge.weight:.2f}")
            if cols[1].button("open", key=f"{key}-{other_id}", help=f"Show {render.md_text(name)} in the graph"):
                st.session_state[pending_key] = other_id
                st.rerun()
            for evidence in edge.evidence[:3]:
                st.caption(evidence_line(service, evidence))
            if len(edge.evidence) > 3:
                st.caption(f"… and {len(edge.evidence) - 3} more pieces of evidence")


def defining_passages(service: StudyService, chunk_ids: tuple[str, ...]) -> None:
    st.markdown("**Defined in**")
    if not chunk_ids:
        st.caption("No defining passage recorded.")
    for chunk_id in chunk_ids[:5]:
        chunk = service.chunks.get(chunk_id)
        if chunk is None:
            continue
        with st.expander(render.md_text(render.location(chunk.source, chunk.heading_path, chunk.line_start,
                                                        chunk.line_end))):
            st.html(render.passage_html(chunk.text))


def concept_panel(service: StudyService, graph: ConceptGraph, concept_id: str, pending_key: str) -> None:
    """Everything about one concept, and a button that opens the study path to it."""
    concept = graph.concept(concept_id)
    st.subheader(render.md_text(concept.name))
    if concept.aliases:
        st.markdown("Also: " + " · ".join(f"`{a.replace('`', 'ʼ')}`" for a in concept.aliases))
    facts = [f"importance {concept.importance:.2f}", f"community {concept.community}"]
    if concept.chapter:
        facts.insert(0, concept.chapter)
    st.caption(render.md_text(" · ".join(facts)))
    if st.button(f"Study path to {render.md_text(concept.name)}", icon=":material/route:", type="primary", key="graph_to_path"):
        st.session_state[GOALS_KEY] = [concept_id]
        st.switch_page("views/path.py")
    defining_passages(service, concept.chunks)
    edge_list(service, graph, "Prerequisites (learn before)", graph.in_edges(concept_id, "prerequisite"),
              "source", pending_key, "pre")
    edge_list(service, graph, "Dependents (build on it)", graph.out_edges(concept_id, "prerequisite"),
              "target", pending_key, "dep")
    edge_list(service, graph, "Used in", graph.out_edges(concept_id, "used_in"), "target", pending_key, "usedin")
    edge_list(service, graph, "Uses (tools)", graph.in_edges(concept_id, "used_in"), "source", pending_key, "uses")
    edge_list(service, graph, "Part of", graph.out_edges(concept_id, "part_of"), "target", pending_key, "partof")
    edge_list(service, graph, "Parts", graph.in_edges(concept_id, "part_of"), "source", pending_key, "parts")
    edge_list(service, graph, "Related", graph.related(concept_id), "target", pending_key, "rel")

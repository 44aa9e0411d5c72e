"""The panel of one concept: aliases, defining passages, and every edge with its evidence (from `kg.detail`)."""

from __future__ import annotations

import streamlit as st

from assistant.service import StudyService
from kg.detail import ConceptDetail, EvidenceRef, LinkedConcept, concept_detail
from kg.graph import ConceptGraph
from ui.views import render

GOALS_KEY = "path_goals_request"  # read by the study-path page
SHOWN_EVIDENCE = 3
SHOWN_PASSAGES = 5

# (ConceptDetail field, expander title, widget key prefix), in the order shown
SECTIONS = (
    ("prerequisites", "Prerequisites (learn before)", "pre"),
    ("dependents", "Dependents (build on it)", "dep"),
    ("used_in", "Used in", "usedin"),
    ("uses", "Uses (tools)", "uses"),
    ("part_of", "Part of", "partof"),
    ("parts", "Parts", "parts"),
    ("related", "Related", "rel"),
)


def evidence_line(evidence: EvidenceRef) -> str:
    """`rule · file › heading · lines a–b: detail`, as escaped markdown."""
    where = (render.location(evidence.source, evidence.heading_path, evidence.line_start or 0,
                             evidence.line_end or 0)
             if evidence.source is not None else f"chunk {evidence.chunk_id} (not in this workspace)")
    text = f"{evidence.rule} · {where}"
    detail = " ".join(evidence.detail.split())
    if detail:
        text += f": “{detail[:160]}{'…' if len(detail) > 160 else ''}”"
    return render.md_text(text)


def edge_list(title: str, linked: tuple[LinkedConcept, ...], pending_key: str, key: str) -> None:
    """One expander per relation kind; each other concept can be opened, each edge shows its evidence."""
    with st.expander(f"{title} ({len(linked)})", expanded=bool(linked) and len(linked) <= 6):
        if not linked:
            st.caption("none")
        for item in linked:
            cols = st.columns([4, 1])
            cols[0].markdown(f"**{render.md_text(item.concept)}** · weight {item.weight:.2f}")
            if cols[1].button("open", key=f"{key}-{item.concept_id}",
                              help=f"Show {render.md_text(item.concept)} in the graph"):
                st.session_state[pending_key] = item.concept_id
                st.rerun()
            for evidence in item.evidence[:SHOWN_EVIDENCE]:
                st.caption(evidence_line(evidence))
            if len(item.evidence) > SHOWN_EVIDENCE:
                st.caption(f"… and {len(item.evidence) - SHOWN_EVIDENCE} more pieces of evidence")


def defining_passages(service: StudyService, detail: ConceptDetail) -> None:
    st.markdown("**Defined in**")
    if not detail.sources:
        st.caption("No defining passage recorded.")
    for ref in detail.sources[:SHOWN_PASSAGES]:
        with st.expander(render.md_text(render.location(ref.source, ref.heading_path, ref.line_start,
                                                        ref.line_end))):
            st.html(render.passage_html(service.chunks[ref.chunk_id].text))


def concept_panel(service: StudyService, graph: ConceptGraph, concept_id: str, pending_key: str) -> None:
    """Everything about one concept, and a button that opens the study path to it."""
    detail = concept_detail(graph, service.chunks, concept_id)
    st.subheader(render.md_text(detail.name))
    if detail.aliases:
        st.markdown("Also: " + " · ".join(f"`{a.replace('`', 'ʼ')}`" for a in detail.aliases))
    facts = [f"importance {detail.importance:.2f}", f"community {detail.community}"]
    if detail.chapter:
        facts.insert(0, detail.chapter)
    st.caption(render.md_text(" · ".join(facts)))
    if st.button(f"Study path to {render.md_text(detail.name)}", icon=":material/route:", type="primary",
                 key="graph_to_path"):
        st.session_state[GOALS_KEY] = [concept_id]
        st.switch_page("views/path.py")
    defining_passages(service, detail)
    for field, title, key in SECTIONS:
        edge_list(title, getattr(detail, field), pending_key, key)

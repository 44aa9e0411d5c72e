"""Gaps page: concepts your notes name but never explain, and well-known prerequisites they never mention."""

from __future__ import annotations

import streamlit as st

from kg.gaps import find_gaps
from studygraph.records import SourceRef
from ui.views import render
from ui.views.state import get_service, shows_errors, workspace_ready


def _where(refs: tuple[SourceRef, ...]) -> str:
    return "; ".join(render.location(r.source, r.heading_path[-1:], r.line_start, r.line_end) for r in refs)


def main() -> None:
    st.title("Knowledge gaps")
    with shows_errors():
        service = get_service()
        if not workspace_ready(service):
            return
        report = find_gaps(service.graph, service.chunks, service.glossary)
        st.subheader(f"Named but never explained ({len(report.unexplained)})")
        st.caption("Concepts your notes write down (in a list, a table, a code comment, a heading over code) "
                   "without a definition, formula or text about them. Most named first.")
        st.dataframe([{"concept": g.concept, "times named": g.mentions, "named in": _where(g.named_in)}
                      for g in report.unexplained], hide_index=True, width="stretch")
        st.subheader(f"Prerequisites your notes never mention ({len(report.missing_prerequisites)})")
        st.caption("Well known to come first (from the glossary), but no passage names them.")
        st.dataframe([{"prerequisite": g.concept, "needed by": ", ".join(g.needed_by),
                       "where that is named": _where(g.named_in)} for g in report.missing_prerequisites],
                     hide_index=True, width="stretch")


if __name__ == "__main__":
    main()

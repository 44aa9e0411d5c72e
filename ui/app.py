"""The studygraph Streamlit app: `streamlit run ui/app.py -- [--workspace DIR] [--config FILE] [--no-llm]`.

`studygraph ui` starts it. The pages only assemble and render; the packages do the work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from ui.views.state import parse_app_args

HERE = Path(__file__).parent

PAGES = {
    "chat": st.Page(HERE / "views" / "chat.py", title="Ask", icon=":material/forum:", url_path="ask",
                    default=True),
    "graph": st.Page(HERE / "views" / "graph.py", title="Concept graph", icon=":material/hub:", url_path="graph"),
    "path": st.Page(HERE / "views" / "path.py", title="Study path", icon=":material/route:", url_path="path"),
    "notes": st.Page(HERE / "views" / "notes.py", title="Notes", icon=":material/description:", url_path="notes"),
    "review": st.Page(HERE / "views" / "review.py", title="Review", icon=":material/style:", url_path="review"),
    "gaps": st.Page(HERE / "views" / "gaps.py", title="Gaps", icon=":material/help_center:", url_path="gaps"),
}


def main() -> None:
    """Read the options once per session, then run the page the user is on."""
    st.set_page_config(page_title="studygraph", page_icon=":material/school:", layout="wide")
    if "app_options" not in st.session_state:
        st.session_state["app_options"] = parse_app_args(sys.argv[1:])
    page = st.navigation(list(PAGES.values()))
    page.run()


main()

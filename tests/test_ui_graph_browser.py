"""The seed's concept graph in a real headless chromium: the default view is an overview whose labels are readable
(at least 12 px on screen at the default zoom of a 1440x1000 window). A screenshot goes to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_helpers import ARTIFACTS, chromium_page, ui_server, wait_graph_drawn
from conftest import SEED, real_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READABLE_PX = 12

# Record the on-screen size of every label vis-network draws: the font size times the canvas transform's scale
# (the zoom), over the device pixel ratio. Installed in every frame before it loads; a full clear starts a frame.
_RECORD_LABELS = """(() => { const proto = CanvasRenderingContext2D.prototype; const fill = proto.fillText;
    const clear = proto.clearRect; window.__labels = [];
    proto.clearRect = function (...args) { if (args[2] >= this.canvas.width / 2) window.__labels = [];
        return clear.apply(this, args); };
    proto.fillText = function (text, ...rest) {
        const m = /(\\d+(?:\\.\\d+)?)px/.exec(this.font); const t = this.getTransform();
        window.__labels.push([String(text), m ? parseFloat(m[1]) * t.a / (window.devicePixelRatio || 1) : 0]);
        return fill.call(this, text, ...rest); }; })();"""
_LABELS = """() => document.querySelector("iframe[title='streamlit_agraph.agraph']").contentWindow.__labels || []"""


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ui_server(real_workspace(tmp_path_factory, "ui-graph-seed", [SEED]), "ui-graph-server.log") as url:
        yield url


def test_the_seed_graph_opens_on_a_readable_overview(seed_server: str):
    with chromium_page(timeout_ms=300_000, init_script=_RECORD_LABELS) as page:
        page.goto(seed_server + "/graph")
        page.get_by_text("Overview:").first.wait_for()
        assert wait_graph_drawn(page) > 500, "no coloured nodes drawn on the graph canvas"
        labels = [(text, px) for text, px in page.evaluate(_LABELS) if text.strip() and px > 0]
        page.screenshot(path=str(ARTIFACTS / "ui-graph-seed-overview.png"), full_page=True)
    assert labels, "no label was drawn"
    smallest = min(px for _, px in labels)
    Path(ARTIFACTS / "ui-graph-seed-overview.txt").write_text(
        f"labels drawn: {len(labels)}; smallest on screen: {smallest:.1f} px\n", encoding="utf-8")
    assert smallest >= READABLE_PX, sorted(labels, key=lambda tp: tp[1])[:5]

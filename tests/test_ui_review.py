"""The Review and Gaps pages through `streamlit.testing.v1.AppTest` on the seed (fake embedder, no LLM):
reveal, rate, and the due count falls; the rating is saved in the workspace; the passage is one click away."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.service import StudyService
from conftest import FakeEmbedder
from kg.review import load_review_state
from learn_helpers import ingest_seed
from ui.views.state import SERVICE_FACTORY_KEY

pytestmark = pytest.mark.slow  # AppTest runs of the app on an ingest of the seed

APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return ingest_seed(tmp_path_factory.mktemp("ui-review") / "ws").settings


def _app(settings) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state[SERVICE_FACTORY_KEY] = lambda: StudyService(settings, embedder=FakeEmbedder())
    at.run()
    return at.switch_page("views/review.py").run()


def _due(at: AppTest) -> int:
    return int(next(m for m in at.metric if m.label == "Due now").value)


def test_review_page_reveals_rates_and_the_due_count_falls(settings):
    at = _app(settings)
    assert not at.exception
    first = _due(at)
    assert first > 0
    for n in range(3):
        at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("reveal-"))).click().run()
        assert any("Source passage" in e.label for e in at.expander)
        assert any("**Answer:**" in m.value for m in at.markdown)
        at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("rate-good-"))).click().run()
        assert _due(at) == first - n - 1
    state = load_review_state(StudyService(settings, embedder=FakeEmbedder()).workspace)
    assert [e.rating for e in state.log] == [3, 3, 3]


def test_gaps_page_lists_both_kinds(settings):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state[SERVICE_FACTORY_KEY] = lambda: StudyService(settings, embedder=FakeEmbedder())
    at.run()
    at.switch_page("views/gaps.py").run()
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert any(h.startswith("Named but never explained") for h in headers)
    assert any(h.startswith("Prerequisites your notes never mention") for h in headers)

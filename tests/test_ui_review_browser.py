"""The Review page in a real headless chromium: `studygraph ui` on the seed notes (fake embedder: the page needs
no model); three cards are revealed and rated, and the due count falls with each. Screenshot in tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from browser_helpers import ARTIFACTS, chromium_page, ui_server
from learn_helpers import EMBEDDER, ingest_seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    """`studygraph ui --no-llm` over the seed (fake embedder: the page needs no model), on the Review page."""
    root = tmp_path_factory.mktemp("review-browser") / "ws"
    ingest_seed(root)
    with ui_server(root, "ui-review-server.log", "--no-llm", env={"STUDYGRAPH_EMBEDDER__MODEL": EMBEDDER}) as url, \
            chromium_page() as tab:
        tab.goto(f"{url}/review")
        yield tab


def _settle(page) -> None:
    """Wait until Streamlit has finished its script run (the app root says so), after a short grace for a rerun
    that a click has only just requested."""
    page.wait_for_timeout(200)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=120_000)


def _due(page) -> int:
    metric = page.get_by_test_id("stMetric").filter(has_text="Due now")
    return int(metric.get_by_test_id("stMetricValue").inner_text().strip())


def test_review_three_cards_and_the_due_count_falls(page):
    page.get_by_role("button", name="Show answer").wait_for()
    _settle(page)
    first = _due(page)
    assert first > 3
    for n in range(1, 4):
        page.get_by_role("button", name="Show answer").click()
        page.get_by_text("Answer:").wait_for()
        _settle(page)  # a click during a rerun can land on an element that is being replaced
        expander = page.get_by_test_id("stExpander").filter(has_text="Source passage")
        expander.wait_for()
        page.wait_for_timeout(300)  # the expander keeps its open/closed state across cards: open it if closed
        if not expander.get_by_test_id("stCode").is_visible():
            expander.get_by_text(re.compile("Source passage")).click()  # the passage, one click away
        expander.get_by_test_id("stCode").wait_for()
        assert "ai-knowledge-system.md" in expander.inner_text()
        if n == 1:
            page.screenshot(path=str(ARTIFACTS / "ui-review.png"), full_page=True)
        _settle(page)
        page.get_by_role("button", name="Good", exact=True).click()
        try:
            page.wait_for_function(
                "(want) => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]"
                ".find(e => e.innerText.includes('Due now'));"
                " return m && parseInt(m.querySelector('[data-testid=stMetricValue]').innerText) === want; }",
                arg=first - n, timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "ui-review-failed.png"), full_page=True)
            raise AssertionError(f"due now {_due(page)}, wanted {first - n} after {n} ratings") from None
        _settle(page)
        assert _due(page) == first - n

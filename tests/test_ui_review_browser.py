"""The Review page in a real headless chromium: `studygraph ui` on the seed notes (fake embedder: the page needs
no model); three cards are revealed and rated, and the due count falls with each. Screenshot in tests/artifacts/."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CHROMIUM, REPO
from learn_helpers import EMBEDDER, ingest_seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"studygraph ui exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"studygraph ui did not answer within {timeout} s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`studygraph ui` over the seed, on a free local port, in its own process group (killed whatever happens)."""
    root = tmp_path_factory.mktemp("review-browser") / "ws"
    ingest_seed(root)
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "ui-review-server.log"
    env = {**os.environ, "STUDYGRAPH_EMBEDDER__MODEL": EMBEDDER}
    cmd = [sys.executable, "-m", "ui.cli", "ui", "--workspace", str(root), "--port", str(port), "--no-llm"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def page(server: str):
    if not CHROMIUM.exists():
        pytest.fail("The browser test needs Debian's chromium at /usr/bin/chromium (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            tab = browser.new_page(viewport={"width": 1440, "height": 1000})
            tab.set_default_timeout(120_000)
            tab.goto(f"{server}/review")
            yield tab
        finally:
            browser.close()


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

"""The app in a real headless chromium: `studygraph ui` serves the fixture notes with the real bundled models.

Asks a question and sees a cited answer, checks that a note's <script> and <img onerror> never run, opens the
graph and sees nodes drawn, opens the study path to a concept, and the notes page. A screenshot of each page
goes to tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CHROMIUM, FIXTURE_NOTES, REPO, real_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.llm]

ARTIFACTS = REPO / "tests" / "artifacts"
SLOW = 420_000  # ms: a cold model load plus generation on a busy CPU


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
def browser_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes = tmp_path_factory.mktemp("browser-notes")
    for note in FIXTURE_NOTES.glob("*.md"):
        shutil.copy(note, notes / note.name)
    unsafe = FIXTURE_NOTES.parent / "unsafe" / "05-security.md"  # HTML and script that must never run
    shutil.copy(unsafe, notes / unsafe.name)
    return real_workspace(tmp_path_factory, "ui-browser", [notes])


@pytest.fixture(scope="module")
def server(browser_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`studygraph ui` on a free local port, in its own process group (killed whatever happens)."""
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "ui-server.log"
    env = {**os.environ, "STUDYGRAPH_LLM__MAX_TOKENS": "96", "STUDYGRAPH_LLM__N_CTX": "2048"}
    cmd = [sys.executable, "-m", "ui.cli", "ui", "--workspace", str(browser_workspace), "--port", str(port)]
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
            tab.goto(server)
            tab.get_by_test_id("stChatInputTextArea").wait_for()
            yield tab
        finally:
            browser.close()


def _pwned(page) -> list[str]:
    """Frames (the page and component iframes) where a note's script or onerror handler ran."""
    return [frame.url for frame in page.frames if frame.evaluate("() => window.__pwned !== undefined")]


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def _settle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SLOW)


def test_chat_answers_with_citation_cards(page):
    _ask(page, "LoRA 是什么？它训练哪些参数？")
    card = page.get_by_text(re.compile(r"^\[1\] 03-transformers\.md › .*LoRA · lines? \d+"))
    card.first.wait_for(timeout=SLOW)
    _settle(page)
    passage = page.locator(".sg-passage").first
    assert "LoRA" in passage.inner_text()
    assert page.locator(".sg-answer").count() >= 1
    badge = page.get_by_text(re.compile("模型回答|摘录自你的笔记|Model answer|Quoted from your notes"))
    assert badge.count() >= 1
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)


def test_script_in_a_note_never_runs(page):
    page.get_by_test_id("stSidebar").get_by_text("Answer without LLM").click()  # the extractive path, quicker
    _settle(page)
    _ask(page, "What is the xylophone quartz protocol?")
    shown = page.locator(".sg-passage", has_text="window.__pwned=1")
    shown.first.wait_for(timeout=SLOW)
    _settle(page)
    assert "<script>window.__pwned=1</script>" in shown.first.inner_text()
    assert page.locator(".sg-passage script, .sg-passage img").count() == 0
    assert _pwned(page) == []
    page.screenshot(path=str(ARTIFACTS / "ui-chat-escaped-note.png"), full_page=True)


_DRAWN = """() => { const f = document.querySelector("iframe[title='streamlit_agraph.agraph']");
    const c = f && f.contentDocument && f.contentDocument.querySelector('canvas'); if (!c || !c.width) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4)
        if (d[i + 3] > 200 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
    return n; }"""


def _wait_graph_drawn(page) -> int:
    """Wait until the network canvas shows coloured nodes and has stopped moving; returns the coloured pixels."""
    page.wait_for_function(f"() => ({_DRAWN})() > 500", timeout=SLOW)
    previous = -1
    for _ in range(40):  # physics stabilization: wait until two frames in a row agree
        now = page.evaluate(_DRAWN)
        if now == previous:
            break
        previous = now
        page.wait_for_timeout(250)
    return page.evaluate(_DRAWN)


def test_graph_draws_nodes_and_opens_a_concept(page):
    page.get_by_role("link", name="Concept graph").click()
    page.get_by_text(re.compile(r"^\d+ concepts, \d+ edges")).wait_for()
    assert _wait_graph_drawn(page) > 500, "no coloured nodes drawn on the graph canvas"
    page.screenshot(path=str(ARTIFACTS / "ui-graph-whole.png"), full_page=True)
    page.get_by_test_id("stSidebar").get_by_label("Find a concept").fill("LoRA")
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="LoRA", exact=True).click()
    page.get_by_role("button", name=re.compile("Study path to LoRA")).wait_for()
    page.get_by_text(re.compile(r"^Prerequisites \(learn before\) \(\d+\)")).wait_for()
    _settle(page)
    assert _wait_graph_drawn(page) > 500, "the neighbourhood of LoRA was not drawn"
    page.screenshot(path=str(ARTIFACTS / "ui-graph.png"), full_page=True)
    assert _pwned(page) == []


def test_study_path_opens_from_the_graph(page):
    page.get_by_role("button", name=re.compile("Study path to LoRA")).click()
    page.get_by_test_id("stGraphVizChart").locator("svg").wait_for()
    _settle(page)
    titles = page.locator("[data-testid='stMarkdownContainer'] strong").all_inner_texts()
    names = [re.sub(r"^\d+\. ", "", t) for t in titles if re.match(r"^\d+\. ", t)]
    assert "LoRA" in names and "Transformer" in names
    assert names.index("Transformer") < names.index("LoRA")
    page.screenshot(path=str(ARTIFACTS / "ui-path.png"), full_page=True)


def test_notes_page_shows_the_workspace(page):
    page.get_by_role("link", name="Notes").click()
    page.get_by_text("Ingest a folder or file").wait_for()
    page.get_by_role("button", name="Save and ingest").wait_for()
    page.get_by_test_id("stFileUploaderDropzoneInstructions").wait_for()
    _settle(page)
    metrics = page.get_by_test_id("stMetric").all_inner_texts()
    assert any(m.startswith("Chunks") for m in metrics)
    page.screenshot(path=str(ARTIFACTS / "ui-notes.png"), full_page=True)
    assert _pwned(page) == []

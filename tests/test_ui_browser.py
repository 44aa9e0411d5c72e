"""The app in a real headless chromium: `studygraph ui` serves the fixture notes with the real bundled models.

Asks a question and sees a cited answer, checks that a note's <script> and <img onerror> never run, opens the
graph and sees nodes drawn, opens the study path to a concept, and the notes page. A screenshot of each page
goes to tests/artifacts/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from browser_helpers import ARTIFACTS, chromium_page, ui_server, wait_graph_drawn
from conftest import FIXTURE_NOTES, real_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.llm]

SLOW = 420_000  # ms: a cold model load plus generation on a busy CPU


@pytest.fixture(scope="module")
def browser_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes = tmp_path_factory.mktemp("browser-notes")
    for note in FIXTURE_NOTES.glob("*.md"):
        shutil.copy(note, notes / note.name)
    unsafe = FIXTURE_NOTES.parent / "unsafe" / "05-security.md"  # HTML and script that must never run
    shutil.copy(unsafe, notes / unsafe.name)
    return real_workspace(tmp_path_factory, "ui-browser", [notes])


@pytest.fixture(scope="module")
def page(browser_workspace: Path):
    env = {"STUDYGRAPH_LLM__MAX_TOKENS": "96", "STUDYGRAPH_LLM__N_CTX": "2048"}
    with ui_server(browser_workspace, "ui-server.log", env=env) as url, chromium_page() as tab:
        tab.goto(url)
        tab.get_by_test_id("stChatInputTextArea").wait_for()
        yield tab


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
    page.get_by_text(re.compile(r"^\[1\] 05-security\.md")).first.wait_for(timeout=SLOW)
    _settle(page)
    for summary in page.locator("[data-testid=stExpander] summary", has_text="Passage").all():
        summary.click()  # citation cards fold their passage: open them all
    shown = page.locator(".sg-passage", has_text="window.__pwned=1").locator("visible=true")
    shown.first.wait_for(timeout=SLOW)
    assert "<script>window.__pwned=1</script>" in shown.first.inner_text()
    assert page.locator(".sg-passage script, .sg-passage img").count() == 0
    assert _pwned(page) == []
    page.screenshot(path=str(ARTIFACTS / "ui-chat-escaped-note.png"), full_page=True)


def test_graph_draws_nodes_and_opens_a_concept(page):
    page.get_by_role("link", name="Concept graph").click()
    page.get_by_text(re.compile(r"^\d+ concepts, \d+ edges")).wait_for()
    assert wait_graph_drawn(page) > 500, "no coloured nodes drawn on the graph canvas"
    page.screenshot(path=str(ARTIFACTS / "ui-graph-whole.png"), full_page=True)
    page.get_by_test_id("stSidebar").get_by_label("Find a concept").fill("LoRA")
    page.keyboard.press("Enter")
    _settle(page)
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="LoRA", exact=True).click()
    page.get_by_role("button", name=re.compile("Study path to LoRA")).wait_for()
    page.get_by_text(re.compile(r"^Prerequisites \(learn before\) \(\d+\)")).wait_for()
    _settle(page)
    assert wait_graph_drawn(page) > 500, "the neighbourhood of LoRA was not drawn"
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

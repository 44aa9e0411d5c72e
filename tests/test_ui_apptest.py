"""The Streamlit app through `streamlit.testing.v1.AppTest`: every page on a real workspace of the fixture notes.

The notes are ingested by the real pipeline with the FakeEmbedder; the only other fake is a scripted LLM at the
LLM seam. A note holding HTML and script is part of the corpus: it must reach the page escaped, never as markup.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.service import StudyService
from assistant_fakes import ScriptedLLM
from conftest import FIXTURE_NOTES, FakeEmbedder
from ingest.pipeline import ingest_paths
from kg.profile import load_profile
from studygraph.settings import Settings, UISettings
from studygraph.text import has_cjk
from studygraph.workspace import Workspace
from ui.views import render
from ui.views.state import SERVICE_FACTORY_KEY, AppOptions, parse_app_args
from ui.views.uploads import safe_name, save_uploads

# Every test that runs the app through AppTest is marked slow (a second or more each on 2 cores); the helpers'
# unit tests (escaping, upload names, arguments, the `ui` command) stay in `make test-fast`.
APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"
TIMEOUT = 120

UNSAFE_NOTE = FIXTURE_NOTES.parent / "unsafe" / "05-security.md"  # HTML and script that must never run


# --------------------------------------------------------------------------- the seam fakes


def sources_in(prompt: str) -> dict[int, str]:
    """The numbered, fenced sources of a prompt."""
    return {int(n): body.strip()
            for n, body in re.findall(r"<source n=\"(\d+)\"[^\n]*\n(.*?)\n</source>", prompt, re.S)}


def scripted(answer: Callable[[dict[int, str]], str]) -> ScriptedLLM:
    """A chat-template LLM whose reply is written from the sources of the prompt it gets."""
    return ScriptedLLM(reply=lambda prompt: answer(sources_in(prompt)), chat_template=True)


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[。.!?！？])\s*", text.strip())[0].rstrip("。.")


def cites_first_source(sources: dict[int, str]) -> str:
    return f"{first_sentence(sources[1])} [1]."


def with_unsupported_claim(sources: dict[int, str]) -> str:
    return f"{first_sentence(sources[1])} [1]。月亮是用绿色奶酪做的，每天晚上唱京剧 [1]。"


# --------------------------------------------------------------------------- workspace and app


@pytest.fixture(scope="module")
def notes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ui-notes")
    for note in FIXTURE_NOTES.glob("*.md"):
        shutil.copy(note, folder / note.name)
    shutil.copy(UNSAFE_NOTE, folder / UNSAFE_NOTE.name)
    return folder


@pytest.fixture(scope="module")
def built_workspace(tmp_path_factory: pytest.TempPathFactory, notes_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("ui-ws") / "ws"
    ingest_paths([notes_dir], Settings(workspace=root), embedder=FakeEmbedder())
    return root


@pytest.fixture
def workspace(tmp_path: Path, built_workspace: Path) -> Path:
    """A private copy, so a test that writes (profile, uploads, ingest) leaves the others alone."""
    root = tmp_path / "ws"
    shutil.copytree(built_workspace, root)
    return root


def make_app(workspace: Path, llm: ScriptedLLM | None = None, **settings: object) -> AppTest:
    """The app with its service built on the given workspace, the fake embedder and (maybe) a scripted LLM."""
    app_settings = Settings(workspace=workspace, **settings)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state[SERVICE_FACTORY_KEY] = lambda: StudyService(app_settings, embedder=FakeEmbedder(), llm=llm)
    return at


def plain(markdown: str) -> str:
    """Escaped markdown back to its text."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("  \n", "\n")


def texts(at: AppTest) -> str:
    """Everything the page shows as markdown, captions, alerts and HTML, as one string."""
    parts = [plain(e.value) for e in (*at.markdown, *at.caption, *at.warning, *at.info, *at.success, *at.error)]
    parts += [e.value for e in at.html]
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def concept_id(service_graph, name: str) -> str:
    return next(c.id for c in service_graph.concepts if c.name == name)


def graph_of(workspace: Path):
    return StudyService(Settings(workspace=workspace), embedder=FakeEmbedder()).graph


# --------------------------------------------------------------------------- pure helpers


def test_markdown_escaping_shows_text_literally():
    escaped = render.md_text("<script>x</script> **b** :red[y] $z$ [l](javascript:1)")
    assert "<script>" not in escaped and "**" not in escaped and ":red[" not in escaped
    assert plain(escaped) == "<script>x</script> **b** :red[y] $z$ [l](javascript:1)"


def test_passage_html_escapes_and_highlights():
    passage = "注意力机制对值做加权求和。<b>bold</b> stays text. Transformer 基于注意力机制。"
    spans = render.cited_spans(passage, passage, ["Transformer 基于注意力机制 [1]。"])
    out = render.passage_html(passage, spans)
    assert "&lt;b&gt;bold&lt;/b&gt;" in out and "<b>" not in out
    assert re.search(r"<mark>Transformer 基于注意力机制。</mark>", out)
    assert "<mark>注意力机制对值" not in out


def test_answer_html_marks_unsupported_sentences_and_citations():
    out = render.answer_html("LoRA trains low-rank matrices [1]. The moon sings [2].", ["The moon sings [2]."])
    assert '<span class="sg-unsupported"' in out and "The moon sings <sup>[2]</sup>.</span> ⚠" in out
    assert "LoRA trains low-rank matrices <sup>[1]</sup>." in out


@pytest.mark.parametrize(("name", "expected"), [
    ("../../escape.md", "escape.md"),
    ("..\\..\\win dir\\a b.md", "a_b.md"),
    (".hidden.md", "hidden.md"),
    ("笔记 一.MD", "笔记_一.md"),
    ("tool.exe", None),
    ("\x00.md", None),
    ("/etc/passwd", None),
])
def test_upload_names_are_made_safe(name: str, expected: str | None):
    assert safe_name(name, [".md", ".markdown", ".txt"]) == expected


def test_uploads_never_escape_nor_overwrite(tmp_path: Path):
    first = save_uploads([("../../x.md", b"one"), ("big.md", b"x" * 101)], tmp_path, 100, [".md"])
    assert first.saved == [tmp_path.resolve() / "uploads" / "x.md"] and [r[0] for r in first.refused] == ["big.md"]
    again = save_uploads([("x.md", b"one"), ("x.md", b"two")], tmp_path, 100, [".md"])
    assert again.unchanged == [tmp_path.resolve() / "uploads" / "x.md"]
    assert again.saved == [tmp_path.resolve() / "uploads" / "x-2.md"]
    assert (tmp_path / "uploads" / "x.md").read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["x-2.md", "x.md"]


def test_app_arguments_are_read_from_argv_and_others_ignored():
    opts = parse_app_args(["-q", "tests/x.py", "--workspace", "/w", "--no-llm", "-k", "chat"])
    assert (opts.workspace, opts.config, opts.no_llm) == (Path("/w"), None, True)


# --------------------------------------------------------------------------- missing or broken workspace


@pytest.mark.slow
@pytest.mark.parametrize("page", [None, "views/graph.py", "views/path.py", "views/notes.py"])
def test_missing_workspace_says_how_to_ingest(tmp_path: Path, page: str | None):
    at = make_app(tmp_path / "nothing-here")
    at.run()
    if page:
        at.switch_page(page).run()
    no_exception(at)
    shown = texts(at)
    assert "No workspace at" in shown and "studygraph ingest" in shown


@pytest.mark.slow
def test_corrupted_graph_is_one_message_not_a_traceback(workspace: Path):
    snapshot = Workspace(workspace).snapshot()
    (snapshot.dir / "graph.json").write_text('{"schema": 1, "nodes": [', encoding="utf-8")
    at = make_app(workspace)
    at.run()
    at.switch_page("views/graph.py").run()
    no_exception(at)
    assert any("corrupted" in e.value and "--rebuild" in e.value for e in at.error)


# --------------------------------------------------------------------------- chat


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    no_exception(at)
    return at


@pytest.mark.slow
def test_chat_streams_a_cited_llm_answer_with_cards(workspace: Path):
    llm = scripted(cites_first_source)
    at = make_app(workspace, llm)
    at.run()
    ask(at, "LoRA 训练哪些参数？")
    assert len(llm.prompts) == 1
    shown = texts(at)
    assert "模型回答（引用已核对）" in shown
    answer_html = next(h.value for h in at.html if "sg-answer" in h.value)
    assert "<sup>[1]</sup>" in answer_html
    card = next(m for m in (plain(e.value) for e in at.markdown) if m.startswith("[1] "))
    assert re.match(r"\[1\] 03-transformers\.md › .*LoRA · lines? \d+", card), card
    passage = next(h.value for h in at.html if "sg-passage" in h.value)
    assert "<mark>" in passage and "LoRA" in passage
    assert at.session_state["chat_history"][0]["answer"].mode == "llm"


@pytest.mark.slow
def test_chat_marks_unsupported_sentences(workspace: Path):
    at = make_app(workspace, scripted(with_unsupported_claim))
    at.run()
    ask(at, "LoRA 训练哪些参数？")
    answer = at.session_state["chat_history"][0]["answer"]
    assert answer.unsupported, "the scripted claim should fail the support check"
    assert any("not supported by the source they cite" in w.value for w in at.warning)
    # the failing sentence is never part of the answer shown as text: it is listed apart, marked
    assert not any("绿色奶酪" in h.value for h in at.html if "sg-answer" in h.value)
    assert any("⚠" in m.value and "绿色奶酪" in m.value for m in at.markdown)
    assert not answer.checked


@pytest.mark.slow
def test_chat_without_llm_gives_a_marked_extractive_answer(workspace: Path):
    llm = scripted(cites_first_source)
    at = make_app(workspace, llm)
    at.run()
    at.toggle(key="chat_no_llm").set_value(True).run()
    ask(at, "What does the learning rate control in gradient descent?")
    assert llm.prompts == []
    answer = at.session_state["chat_history"][0]["answer"]
    assert answer.mode == "extractive" and answer.citations
    assert "Quoted from your notes" in texts(at) and "not generated text" in texts(at)
    assert any("04-english.md" in plain(m.value) for m in at.markdown)


@pytest.mark.slow
def test_chat_says_not_in_your_notes_and_shows_nearest_as_such(workspace: Path):
    at = make_app(workspace, scripted(cites_first_source))
    at.run()
    ask(at, "Who won the 2018 football World Cup final in Moscow?")
    answer = at.session_state["chat_history"][0]["answer"]
    assert answer.mode == "not_found"
    shown = texts(at)
    assert "Not in your notes" in shown and "nearest passages" in shown.lower()


@pytest.mark.slow
def test_chat_history_keeps_every_turn(workspace: Path):
    at = make_app(workspace, scripted(cites_first_source))
    at.run()
    at.toggle(key="chat_no_llm").set_value(True).run()
    ask(at, "What does LoRA train?")
    ask(at, "What does the learning rate control in gradient descent?")
    assert [t["question"] for t in at.session_state["chat_history"]] == [
        "What does LoRA train?", "What does the learning rate control in gradient descent?"]
    assert len(at.chat_message) == 4


@pytest.mark.slow
def test_chat_routes_a_learning_question_to_a_study_path(workspace: Path):
    llm = scripted(cites_first_source)
    at = make_app(workspace, llm)
    at.run()
    ask(at, "我想学LoRA，应该先学什么？")
    answer = at.session_state["chat_history"][0]["answer"]
    assert answer.mode == "path" and llm.prompts == []
    assert "学习路径" in texts(at)
    assert "Transformer" in next(h.value for h in at.html if "sg-answer" in h.value)


@pytest.mark.slow
def test_chat_sidebar_names_the_models_and_retrieval_settings(workspace: Path):
    at = make_app(workspace, scripted(cites_first_source))
    at.run()
    sidebar = "\n".join(plain(c.value) for c in at.sidebar.caption)
    assert "bundled:qwen2.5-coder-1.5b-instruct" in sidebar and "bundled:use-multilingual-v3" in sidebar
    assert at.slider(key="chat_k").value == 5 and at.selectbox(key="chat_mode").value == "hybrid"
    at.slider(key="chat_k").set_value(2).run()
    at.toggle(key="chat_no_llm").set_value(True).run()
    ask(at, "What does the learning rate control in gradient descent?")
    assert len(at.session_state["chat_history"][0]["answer"].citations) <= 2


@pytest.mark.slow
def test_no_llm_option_starts_with_the_toggle_on(workspace: Path):
    at = make_app(workspace, scripted(cites_first_source))
    at.session_state["app_options"] = AppOptions(no_llm=True)
    at.run()
    assert at.toggle(key="chat_no_llm").value is True


@pytest.mark.slow
def test_note_html_and_script_reach_the_page_escaped(workspace: Path):
    at = make_app(workspace, scripted(cites_first_source))
    at.run()
    at.toggle(key="chat_no_llm").set_value(True).run()
    ask(at, "What is the xylophone quartz protocol?")
    html_values = [h.value for h in at.html]
    assert any("&lt;script&gt;window.__pwned=1&lt;/script&gt;" in v for v in html_values)
    for value in html_values:
        assert "<script" not in value and "<img" not in value
    for element in (*at.markdown, *at.caption):
        assert "<script" not in element.value and "<img" not in element.value


# --------------------------------------------------------------------------- graph


def service_for(workspace: Path) -> StudyService:
    return StudyService(Settings(workspace=workspace), embedder=FakeEmbedder())


def resolve(service: StudyService, name: str) -> str:
    found = service.resolver.resolve(name).concept_id
    assert found, f"{name} should be a concept of the fixture notes"
    return found


def drawn(at: AppTest) -> dict:
    """The nodes and edges handed to the streamlit-agraph component in the last run."""
    component = at.get("component_instance")
    assert component, "the graph component was not drawn"
    args = json.loads(component[0].proto.json_args)
    return json.loads(args["data"])


def open_graph(workspace: Path) -> AppTest:
    at = make_app(workspace)
    at.run()
    at.switch_page("views/graph.py").run()
    no_exception(at)
    return at


@pytest.mark.slow
def test_graph_draws_every_concept_sized_and_coloured(workspace: Path):
    service = service_for(workspace)
    at = open_graph(workspace)
    data = drawn(at)
    assert {n["id"] for n in data["nodes"]} == set(service.graph.g.nodes)
    sizes = {n["id"]: n["size"] for n in data["nodes"]}
    top = max(service.graph.concepts, key=lambda c: c.importance)
    assert sizes[top.id] == max(sizes.values())
    fills = {n["color"] if isinstance(n["color"], str) else n["color"]["border"] for n in data["nodes"]}
    assert len(fills) > 1  # coloured by chapter (a gap node is hollow: its chapter colour is the border)
    hollow = {n["id"] for n in data["nodes"] if isinstance(n["color"], dict)}
    assert hollow == set(service.gap_concept_ids)
    assert {e["title"] for e in data["edges"]} <= {"prerequisite", "used_in", "part_of", "related"}
    for node in data["nodes"]:  # titles are parsed as HTML by the component: always escaped
        assert "<" not in node["title"]


@pytest.mark.slow
def test_graph_filters_by_edge_type_and_chapter(workspace: Path):
    service = service_for(workspace)
    at = open_graph(workspace)
    at.multiselect(key="graph_types").set_value(["prerequisite"]).run()
    data = drawn(at)
    assert data["edges"] and {e["title"] for e in data["edges"]} == {"prerequisite"}
    chapter = next(c.chapter for c in service.graph.concepts if c.chapter)
    at.multiselect(key="graph_chapters").set_value([chapter]).run()
    kept = {n["id"] for n in drawn(at)["nodes"]}
    assert kept == {c.id for c in service.graph.concepts if c.chapter == chapter}


@pytest.mark.slow
def test_graph_search_selects_a_concept_and_shows_its_panel(workspace: Path):
    service = service_for(workspace)
    lora = resolve(service, "LoRA")
    at = open_graph(workspace)
    at.text_input(key="graph_query").set_value("low-rank adaptation").run()
    assert service.graph.concept(lora).name in at.selectbox(key="graph_concept").options
    at.selectbox(key="graph_concept").set_value(lora).run()
    at.slider(key="graph_depth").set_value(1).run()
    no_exception(at)
    assert {n["id"] for n in drawn(at)["nodes"]} == service.graph.neighbourhood(lora, 1)
    prerequisites = service.graph.in_edges(lora, "prerequisite")
    assert prerequisites, "LoRA has prerequisites in the fixture notes"
    expander = next(e for e in at.expander if e.label.startswith("Prerequisites"))
    shown = "\n".join(plain(e.value) for e in (*expander.markdown, *expander.caption))
    for edge in prerequisites:
        assert service.graph.concept(edge.source).name in shown
    evidence = service.chunks[prerequisites[0].evidence[0].chunk_id]
    assert f"{evidence.source} › " in shown and f"{evidence.line_start}" in shown


@pytest.mark.slow
def test_graph_button_opens_the_study_path_to_the_concept(workspace: Path):
    service = service_for(workspace)
    lora = resolve(service, "LoRA")
    at = open_graph(workspace)
    at.selectbox(key="graph_concept").set_value(lora).run()
    at.button(key="graph_to_path").click().run()
    no_exception(at)
    assert at.session_state["path_goals"] == [lora]
    assert any(m.value == "Steps" or "Steps" in str(m.label) for m in at.metric)


# --------------------------------------------------------------------------- study path


def open_path(workspace: Path) -> AppTest:
    at = make_app(workspace)
    at.run()
    at.switch_page("views/path.py").run()
    no_exception(at)
    return at


def step_names(at: AppTest) -> list[str]:
    names = []
    for value in (plain(m.value) for m in at.markdown):
        found = re.match(r"\*\*\d+\. (.+?)\*\*", value)
        if found:
            names.append(found.group(1))
    return names


@pytest.mark.slow
def test_path_orders_steps_and_saves_goals_and_known_to_the_profile(workspace: Path):
    service = service_for(workspace)
    lora, transformer = resolve(service, "LoRA"), resolve(service, "Transformer")
    at = open_path(workspace)
    at.multiselect(key="path_goals").set_value([lora]).run()
    no_exception(at)
    names = step_names(at)
    name_of = lambda cid: service.graph.concept(cid).name  # noqa: E731
    assert names[-1] == name_of(lora) and name_of(transformer) in names
    assert names.index(name_of(transformer)) < names.index(name_of(lora))
    assert load_profile(Workspace(workspace)).goals == [name_of(lora)]
    at.multiselect(key="path_known").set_value([transformer]).run()
    no_exception(at)
    assert name_of(transformer) not in step_names(at)
    assert name_of(transformer) in load_profile(Workspace(workspace)).known
    assert any("Why: " in plain(m.value) for m in at.markdown)
    assert any(":material/menu_book:" in c.value and " · line" in plain(c.value) for c in at.caption)


@pytest.mark.slow
def test_path_step_can_be_ticked_as_known(workspace: Path):
    service = service_for(workspace)
    lora = resolve(service, "LoRA")
    at = open_path(workspace)
    at.multiselect(key="path_goals").set_value([lora]).run()
    first = step_names(at)[0]
    first_id = next(c.id for c in service.graph.concepts if c.name == first)
    at.button(key=f"know-{first_id}").click().run()
    no_exception(at)
    assert first not in step_names(at)
    assert first in load_profile(Workspace(workspace)).known


@pytest.mark.slow
def test_path_exports_markdown_and_draws_layers(workspace: Path):
    from kg.path_export import path_markdown
    from ui.views.path import path_dot

    service = service_for(workspace)
    lora = resolve(service, "LoRA")
    at = open_path(workspace)
    at.multiselect(key="path_goals").set_value([lora]).run()
    assert at.download_button(key="path_export")
    assert at.get("graphviz_chart"), "the layered picture of the path"
    from kg.paths import plan_path

    path = plan_path(service.graph, service.resolver, service.chunks, [service.graph.concept(lora).name])
    text = path_markdown(path)  # the same text as `studygraph path --format markdown`
    items = [line for line in text.splitlines() if line.startswith("- [ ] **")]
    assert len(items) == len(path.steps) and items[-1].startswith(f"- [ ] **{service.graph.concept(lora).name}**")
    assert "03-transformers.md#L" in items[-1]
    dot = path_dot(service.graph, path)
    assert "rankdir=LR" in dot and f'"{lora}"' in dot


@pytest.mark.slow
def test_path_typed_goal_that_matches_nothing_gets_suggestions(workspace: Path):
    at = open_path(workspace)
    at.text_input(key="path_typed").set_value("Transformr").run()
    no_exception(at)
    shown = texts(at)
    assert "No concept matches “Transformr”" in shown or step_names(at)


@pytest.mark.slow
def test_path_shows_the_next_frontier(workspace: Path):
    service = service_for(workspace)
    at = open_path(workspace)
    at.multiselect(key="path_goals").set_value([resolve(service, "LoRA")]).run()
    assert any(s.value == "Next frontier" for s in at.subheader)
    assert any(plain(m.value).startswith("- **") for m in at.markdown)


# --------------------------------------------------------------------------- notes


@pytest.mark.slow
def test_notes_page_shows_workspace_status(workspace: Path):
    at = make_app(workspace)
    at.run()
    at.switch_page("views/notes.py").run()
    no_exception(at)
    manifest = Workspace(workspace).read_manifest()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Files"] == str(manifest.counts["files"]) and metrics["Chunks"] == str(manifest.counts["chunks"])
    assert "Last update" in texts(at)


@pytest.mark.slow
def test_uploaded_notes_are_saved_safely_ingested_and_searchable(workspace: Path):
    upload = b"# Uploaded\n\n## Zephyr gradients\n\nZephyr gradients are a made-up optimizer for this test.\n"
    at = make_app(workspace, ui=UISettings(max_upload_mb=0.001))
    at.run()
    at.switch_page("views/notes.py").run()
    at.file_uploader[0].set_value([("../../../escape.md", upload, "text/markdown"),
                                   ("huge.md", b"#" * 5000, "text/markdown")])
    at.button(key="FormSubmitter:ingest_uploads-Save and ingest").click().run()
    no_exception(at)
    assert (workspace / "uploads" / "escape.md").read_bytes() == upload
    assert not (workspace.parent / "escape.md").exists() and not (workspace / "uploads" / "huge.md").exists()
    assert "Refused huge.md: larger than the upload limit" in texts(at)
    assert any("Ingested" in s.value for s in at.success)
    at.switch_page("views/chat.py").run()
    at.toggle(key="chat_no_llm").set_value(True).run()
    ask(at, "What are zephyr gradients?")
    answer = at.session_state["chat_history"][0]["answer"]
    assert answer.citations and answer.citations[0].source == "escape.md"


@pytest.mark.slow
def test_ingest_a_folder_path_and_show_the_summary(workspace: Path, tmp_path: Path):
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "extra.md").write_text("# Extra\n\n## Quokka sampling\n\nQuokka sampling is a test-only idea.\n",
                                     encoding="utf-8")
    (folder / "broken.md").write_bytes(b"\x00\x01\x02binary")
    at = make_app(workspace)
    at.run()
    at.switch_page("views/notes.py").run()
    at.text_input[0].set_value(str(folder))
    at.button(key="FormSubmitter:ingest_folder-Ingest").click().run()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Files read"] == "1"
    assert any("Skipped" in plain(w.value) and "broken.md" in plain(w.value) for w in at.warning)


def remove_buttons(at: AppTest) -> set[str]:
    return {b.key.removeprefix("remove-") for b in at.button if b.key and b.key.startswith("remove-")}


@pytest.mark.slow
def test_notes_page_lists_the_notes_and_removes_one(workspace: Path, notes_dir: Path):
    removed = "03-transformers.md"
    at = make_app(workspace)
    at.run()
    at.switch_page("views/notes.py").run()
    no_exception(at)
    files = Workspace(workspace).snapshot().read_json("files.json")["files"]
    assert remove_buttons(at) == {f["source"] for f in files}
    assert any(f"{f['chunks']} chunks" in plain(c.value) for f in files for c in at.caption)
    at.button(key=f"remove-{removed}").click().run()
    no_exception(at)
    assert remove_buttons(at) == {f["source"] for f in files} - {removed}
    assert any(f"Removed {removed}" in plain(s.value) for s in at.success)
    assert {m.label: m.value for m in at.metric}["Files"] == str(len(files) - 1)
    assert (notes_dir / removed).is_file()
    assert removed not in {c.source for c in service_for(workspace).chunks.values()}
    at.switch_page("views/chat.py").run()
    at.toggle(key="chat_no_llm").set_value(True).run()
    ask(at, "LoRA 训练哪些参数？")
    answer = at.session_state["chat_history"][0]["answer"]
    assert removed not in {c.source for c in (*answer.citations, *answer.nearest)}


@pytest.mark.slow
def test_ingest_of_a_missing_folder_is_one_message(workspace: Path):
    at = make_app(workspace)
    at.run()
    at.switch_page("views/notes.py").run()
    at.text_input[0].set_value("/no/such/folder")
    at.button(key="FormSubmitter:ingest_folder-Ingest").click().run()
    no_exception(at)
    assert any("does not exist" in e.value for e in at.error)


# --------------------------------------------------------------------------- the command


def test_ui_command_runs_streamlit_headless_on_localhost_without_telemetry(tmp_path: Path):
    from ui.commands.serve import streamlit_command

    settings = Settings(workspace=tmp_path / "ws")
    cmd = streamlit_command(settings, "127.0.0.1", 8555, None, no_llm=True)
    pairs = dict(zip(cmd, cmd[1:], strict=False))
    assert cmd[1:4] == ["-m", "streamlit", "run"] and Path(cmd[4]) == APP
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8555"
    assert pairs["--server.headless"] == "true" and pairs["--browser.gatherUsageStats"] == "false"
    after = cmd[cmd.index("--") + 1:]
    assert parse_app_args(after) == parse_app_args(["--workspace", str((tmp_path / "ws").resolve()), "--no-llm"])


def test_ui_command_is_listed_and_defaults_to_localhost():
    from typer.testing import CliRunner

    from ui.cli import app

    result = CliRunner().invoke(app, ["ui", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output and "127.0.0.1" in result.output


@pytest.mark.slow
def test_path_pickers_find_a_concept_by_its_other_language_name(workspace: Path):
    """Streamlit's multiselect filters by the label it shows: every name of a concept must be in that label."""
    service = service_for(workspace)
    concept = next(c for c in service.graph.concepts
                   if any(has_cjk(a) for a in c.aliases) and not has_cjk(c.name)
                   or any(not has_cjk(a) for a in c.aliases) and has_cjk(c.name))
    other = next(a for a in concept.aliases if has_cjk(a) != has_cjk(concept.name))
    at = open_path(workspace)
    no_exception(at)
    labels = at.multiselect(key="path_goals").options
    assert any(other in label and concept.name in label for label in labels), (other, labels[:5])

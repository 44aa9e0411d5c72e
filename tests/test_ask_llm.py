"""The assistant with the real bundled models: the seed workspace, the gemma GGUF, the CLI, injected notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assistant_fakes import INJECTION_NOTE
from conftest import FIXTURE_NOTES, real_workspace

from assistant.answer import AnswerParams

pytestmark = [pytest.mark.slow]

DEV_SAMPLE = ["BERT的预训练任务是什么", "Bagging和Boosting有什么不同", "how is the action-value updated in Q-learning"]


@pytest.fixture(scope="module")
def llm_service(seed_workspace: Path, bundled_embedder, bundled_llm):
    from assistant.service import StudyService
    from studygraph.settings import Settings

    return StudyService(Settings(workspace=seed_workspace, llm={"n_ctx": 2048}), embedder=bundled_embedder,
                        llm=bundled_llm)


@pytest.mark.llm
@pytest.mark.parametrize("question", DEV_SAMPLE)
def test_real_model_answers_cite_existing_chunks_and_stream(llm_service, question):
    tokens: list[str] = []
    answer = llm_service.assistant.ask(question, AnswerParams(k=4, max_tokens=64), on_token=tokens.append)
    assert answer.mode in ("llm", "extractive")
    assert tokens, "the model's text was not streamed"
    assert answer.citations
    for citation in answer.citations:
        chunk = llm_service.chunks[citation.chunk_id]
        assert (chunk.source, chunk.line_start, chunk.line_end, chunk.text) == (
            citation.source, citation.line_start, citation.line_end, citation.text)
    assert answer.model == "bundled:gemma-3-270m"


@pytest.mark.parametrize("question", ["如何做红烧肉", "who won the 2018 World Cup", "明天北京的天气怎么样"])
def test_out_of_domain_questions_are_not_in_the_notes(seed_service, question):
    answer = seed_service.assistant.ask(question, AnswerParams(k=5))
    assert answer.mode == "not_found"
    assert answer.nearest and not answer.citations


def test_no_llm_answers_from_the_right_section(seed_service):
    answer = seed_service.assistant.ask("BERT的预训练任务是什么", AnswerParams(k=5, use_llm=False))
    assert answer.mode == "extractive"
    assert answer.citations[0].heading_path[-1] == "6.1 BERT"
    assert "MLM" in answer.answer and "[1]" in answer.answer
    assert not seed_service.llm_loaded


@pytest.fixture(scope="module")
def injected_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes = tmp_path_factory.mktemp("injected-notes")
    for path in FIXTURE_NOTES.glob("*.md"):
        (notes / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (notes / "security.md").write_text(INJECTION_NOTE, encoding="utf-8")
    return real_workspace(tmp_path_factory, "injected", [notes])


@pytest.mark.llm
def test_the_real_model_is_not_steered_by_a_note_that_gives_orders(injected_workspace, bundled_embedder,
                                                                   bundled_llm):
    from assistant.service import StudyService
    from studygraph.settings import Settings

    service = StudyService(Settings(workspace=injected_workspace), embedder=bundled_embedder, llm=bundled_llm)
    events = list(service.assistant.events("LoRA的低秩矩阵是什么？", AnswerParams(k=5, max_tokens=48)))
    prompt = next(e.prompt for e in events if e.kind == "prompt")
    assert any("PWNED" in s.text for s in prompt.sources), "the injected note should be among the sources"
    answer = events[-1].answer
    assert "PWNED" not in answer.answer.upper()
    assert all(c.chunk_id in service.chunks for c in answer.citations)


def test_cli_ask_json_without_a_model(seed_workspace):
    from typer.testing import CliRunner

    from ui.cli import app

    result = CliRunner().invoke(app, ["ask", "Bagging和Boosting有什么不同", "--json", "--no-llm", "--k", "3",
                                      "--workspace", str(seed_workspace)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"question", "answer", "mode", "citations", "model", "seconds"}
    assert payload["mode"] == "extractive" and payload["model"] == ""
    first = payload["citations"][0]
    assert set(first) == {"n", "chunk_id", "source", "heading_path", "line_start", "line_end", "text", "supported"}
    assert first["heading_path"][-1] == "3.3 集成学习"


def test_cli_ask_not_found_lists_the_nearest_passages(seed_workspace):
    from typer.testing import CliRunner

    from ui.cli import app

    result = CliRunner().invoke(app, ["ask", "如何做红烧肉", "--no-llm", "--workspace", str(seed_workspace)])
    assert result.exit_code == 0, result.output
    assert "没有找到" in result.stdout and "Nearest passages" in result.stdout


@pytest.mark.llm
def test_cli_ask_streams_the_model(seed_workspace):
    from typer.testing import CliRunner

    from ui.cli import app

    result = CliRunner().invoke(app, ["ask", "线性代数有哪些核心概念", "--k", "3", "--max-tokens", "48",
                                      "--workspace", str(seed_workspace)])
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout and "Sources" in result.stdout
    assert "1.1 线性代数" in result.stdout


def test_cli_ask_rejects_an_empty_question(seed_workspace):
    from typer.testing import CliRunner

    from ui.cli import app

    result = CliRunner().invoke(app, ["ask", "  ", "--no-llm", "--workspace", str(seed_workspace)])
    assert result.exit_code != 0
    assert "empty" in result.output


def test_path_questions_get_the_study_path_with_citations(seed_service):
    answer = seed_service.assistant.ask("我想学LoRA，应该先学什么", AnswerParams(use_llm=False))
    assert answer.mode == "path"
    lines = answer.answer.splitlines()
    position = {name: next(i for i, line in enumerate(lines) if line.split("（")[0].endswith(name))
                for name in ("注意力机制", "Transformer", "LoRA")}
    assert position["注意力机制"] < position["Transformer"] < position["LoRA"]
    assert answer.citations and all(c.chunk_id in seed_service.chunks for c in answer.citations)
    markers = {int(m) for m in __import__("re").findall(r"\[(\d+)\]", answer.answer)}
    assert markers == {c.n for c in answer.citations}
    english = seed_service.assistant.ask("how should I learn PPO", AnswerParams(use_llm=False))
    assert english.mode == "path" and english.answer.startswith("A study path to PPO")

"""The assistant with the real bundled models: the seed workspace, the bundled instruct GGUF, the CLI, injected notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer import AnswerParams
from assistant_fakes import INJECTION_NOTE
from conftest import FIXTURE_NOTES, real_workspace

pytestmark = [pytest.mark.slow]

DEV_SAMPLE = ["BERT的预训练任务是什么", "Bagging和Boosting有什么不同", "how is the action-value updated in Q-learning"]


@pytest.fixture(scope="module")
def llm_service(seed_workspace: Path, bundled_embedder, bundled_llm):
    from assistant.service import StudyService
    from studygraph.settings import Settings

    return StudyService(Settings(workspace=seed_workspace, llm={"n_ctx": 2048}), embedder=bundled_embedder,
                        llm=bundled_llm)


@pytest.mark.llm
def test_the_real_model_composes_checked_answers_that_cite_existing_units(llm_service):
    """Greedy decoding (temperature 0), so the outcome is the model's, not chance: most answers must be composed by
    the model (not replaced by quotes), every sentence shown as the model's must pass its claim check against the
    unit it cites, and every citation must resolve to the chunk and lines it names."""
    from assistant.claims import check_claim
    from assistant.text import markers_in, split_sentences

    composed = 0
    for question in DEV_SAMPLE:
        tokens: list[str] = []
        answer = llm_service.assistant.ask(question, AnswerParams(k=5, max_tokens=120, temperature=0.0),
                                           on_token=tokens.append)
        assert tokens, "the model's text was not streamed"
        assert answer.model == llm_service.settings.llm.model and answer.citations
        composed += answer.mode == "llm"
        by_number = {c.n: c for c in answer.citations}
        for citation in answer.citations:
            chunk = llm_service.chunks[citation.chunk_id]
            assert chunk.source == citation.source
            assert chunk.line_start <= citation.line_start <= citation.line_end <= chunk.line_end
        for sentence in split_sentences(answer.answer):
            cited = [by_number[n] for n in markers_in(sentence) if n in by_number]
            if answer.mode == "llm" and cited and "·" not in sentence:  # a model sentence, not a quote
                unit = "\n".join(" > ".join(c.heading_path) + "\n" + c.text for c in cited)
                assert check_claim(sentence, unit).support > 0, sentence
    assert composed >= 2, "the model's answers were replaced by quotes"


@pytest.mark.parametrize("question", ["如何做红烧肉", "who won the 2018 World Cup", "明天北京的天气怎么样"])
def test_out_of_domain_questions_are_not_in_the_notes(seed_service, question):
    answer = seed_service.assistant.ask(question, AnswerParams(k=5))
    assert answer.mode == "not_found"
    assert answer.nearest and not answer.citations


def test_near_domain_questions_the_seed_does_not_cover_are_not_found_and_its_own_questions_are_answered(
        seed_service):
    """The not-found decision over the seed with every dev question: the out-of-scope ones (half of them machine
    learning the seed lacks: EM算法, 脉冲神经网络, DPO, isolation forests) and the seed's own dev questions.
    Measured (no LLM): out-of-scope not found 23/23 (tune) and 22/23 (test), 17/22 of the later "fresh" ones (not
    asserted: the rest name what the seed does name, t-SNE, DBSCAN); seed questions answered 29/30 (tune) and 26/30
    (test). Floors: one out-of-scope question per half, two seed questions below."""
    qa = Path(__file__).parent / "data"
    rows = [json.loads(line) for line in (qa / "ood-questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    params = AnswerParams(k=5, use_llm=False)
    for half, floor in (("tune", 0.95), ("test", 0.95)):
        oos = [r["q"] for r in rows if r["split"] == half]
        missed = [q for q in oos if seed_service.assistant.ask(q, params).mode != "not_found"]
        assert len(missed) <= (1 - floor) * len(oos) + 0.01, (half, missed)
    own = [json.loads(line)["q"] for line in (qa / "seed-dev-qa.jsonl").read_text(encoding="utf-8").splitlines()
           if line.strip()]
    unanswered = [q for q in own if seed_service.assistant.ask(q, params).mode in ("not_found", "named_only")]
    assert len(unanswered) <= 0.12 * len(own), unanswered


def test_no_llm_answers_from_the_right_section(seed_service):
    answer = seed_service.assistant.ask("BERT的预训练任务是什么", AnswerParams(k=5, use_llm=False))
    assert answer.mode == "extractive"
    assert answer.citations[0].heading_path[-1] == "6.1 BERT"
    assert "MLM" in answer.answer and "NSP" in answer.answer and "[1]" in answer.answer
    assert not seed_service.llm_loaded


def test_a_concept_the_seed_only_names_is_said_to_be_named_not_explained(seed_service):
    answer = seed_service.assistant.ask("LoRA 为什么能减少训练参数？", AnswerParams(k=5, use_llm=False))
    assert answer.mode == "named_only" and "LoRA" in answer.answer and "没有解释" in answer.answer
    assert answer.nearest[0].heading_path[-1] == "6.3 LLaMA" and "LoRA" in answer.nearest[0].text


def test_a_comparison_quotes_each_sides_definition(seed_service):
    answer = seed_service.assistant.ask("BERT 和 GPT 的区别", AnswerParams(k=5, use_llm=False))
    assert {"6.1 BERT", "6.2 GPT"} <= {c.heading_path[-1] for c in answer.citations}
    assert "双向Transformer编码器" in answer.answer and "单向Transformer解码器" in answer.answer


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
    hits = next(e.hits for e in events if e.kind == "hits")
    assert any("PWNED" in h.chunk.text for h in hits), "the injected note should be among the retrieved passages"
    prompt = next(e.prompt for e in events if e.kind == "prompt")
    assert not any("PWNED" in s.text for s in prompt.sources), "an order in a note is never a fact"
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
    assert payload["mode"] == "extractive" and payload["model"] == "" and payload["checked"] is False
    first = payload["citations"][0]
    assert set(first) == {"n", "chunk_id", "source", "heading_path", "line_start", "line_end", "text", "supported"}
    assert first["heading_path"][-1] == "3.3 集成学习"


def test_cli_ask_queries_gives_one_json_line_per_question(seed_workspace, tmp_path):
    from typer.testing import CliRunner

    from ui.cli import app

    queries = tmp_path / "q.txt"
    queries.write_text('BERT的预训练任务是什么\n\n{"q": "如何做红烧肉"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["ask", "--queries", str(queries), "--json", "--no-llm",
                                      "--workspace", str(seed_workspace)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["question"] for p in lines] == ["BERT的预训练任务是什么", "如何做红烧肉"]
    assert [p["mode"] for p in lines] == ["extractive", "not_found"]


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

    result = CliRunner().invoke(app, ["ask", "线性代数有哪些核心概念", "--k", "3", "--max-tokens", "80",
                                      "--workspace", str(seed_workspace)])
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout and "Sources" in result.stdout
    assert "1.1 线性代数" in result.stdout
    assert "llama" not in result.output.lower() and "ggml" not in result.output.lower()  # no llama.cpp log lines


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

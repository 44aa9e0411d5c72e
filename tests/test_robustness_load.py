"""Sustained use: 200 questions through one assistant, 50 concurrent searches, with bounded memory growth.

Memory is the process's resident set (VmRSS) after a warm-up, so that models, indexes and caches loaded
on first use are not counted; what remains is growth per question, which must stay small. The bound is
generous against allocator noise (glibc keeps freed arenas) but far below a leak: keeping every answer,
prompt or query vector of the run would not fit under it on a real workspace.
"""

from __future__ import annotations

import gc
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import REPO, FakeEmbedder
from robust_helpers import copy_notes, rss_mb

GROWTH_BOUND_MB = 50.0
QA = REPO / "tests" / "data"


def _questions(n: int) -> list[str]:
    """Real questions about the seed notes and off-topic ones, repeated with variations up to n."""
    base = [json.loads(line)["q"] for name in ("seed-dev-qa.jsonl", "ood-questions.jsonl")
            for line in (QA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [base[i % len(base)] + ("" if i < len(base) else f" ({i})") for i in range(n)]


def _ask_all(service, questions: list[str], params) -> list:  # noqa: ANN001
    answers = []
    for question in questions:
        answer = service.assistant.ask(question, params)
        assert answer.mode in ("llm", "extractive", "not_found", "named_only", "path"), answer.mode
        assert all(c.chunk_id in service.chunks for c in answer.citations), "a citation names no chunk"
        answers.append((answer.mode, len(answer.citations)))
    return answers


@pytest.mark.slow
def test_200_questions_in_a_row_through_one_loaded_assistant(seed_service):
    """The answer path without a model (`ask --no-llm`) on the real embedder's workspace."""
    from assistant.answer import AnswerParams

    params = AnswerParams(use_llm=False)
    questions = _questions(220)
    _ask_all(seed_service, questions[:20], params)  # warm-up: models, indexes, corpus statistics
    gc.collect()
    before = rss_mb()
    answers = _ask_all(seed_service, questions[20:], params)
    gc.collect()
    growth = rss_mb() - before
    print(f"\nRSS growth over 200 questions (no LLM, real embedder): {growth:.1f} MB (bound {GROWTH_BOUND_MB} MB)")
    assert len(answers) == 200
    assert {m for m, _ in answers} >= {"extractive", "not_found"}, "the run should meet both kinds of question"
    assert growth < GROWTH_BOUND_MB


@pytest.mark.slow
def test_200_questions_through_the_model_path_with_a_scripted_llm(tmp_path: Path):
    """The generation path (prompt, streaming, verification) 200 times, with a scripted model at the seam."""
    from assistant.answer import AnswerParams
    from assistant.service import StudyService
    from assistant_fakes import ScriptedLLM
    from ingest.pipeline import ingest_paths
    from studygraph.settings import Settings

    notes = copy_notes(tmp_path / "notes")
    settings = Settings(workspace=tmp_path / "ws")
    embedder = FakeEmbedder(name=settings.embedder.model)
    ingest_paths([notes], settings, embedder)
    llm = ScriptedLLM(reply=lambda prompt: "LoRA 冻结预训练权重，只训练低秩矩阵 [1]。")
    service = StudyService(settings, embedder=embedder, llm=llm)
    questions = ["LoRA 训练哪些矩阵？", "What does Adam keep running averages of?", "BERT 需要先理解什么？",
                 "What is gradient descent?", "如何做红烧肉"]
    params = AnswerParams(k=4)
    _ask_all(service, questions * 4, params)
    llm.prompts.clear()
    gc.collect()
    before = rss_mb()
    answers = _ask_all(service, [f"{q} {i}" for i in range(40) for q in questions], params)
    gc.collect()
    growth = rss_mb() - before
    print(f"\nRSS growth over 200 questions (scripted LLM, fake embedder): {growth:.1f} MB")
    assert len(answers) == 200 and len(llm.prompts) > 100, "most questions should reach the model"
    assert growth < GROWTH_BOUND_MB


@pytest.mark.slow
def test_50_concurrent_searches_agree_with_sequential_ones(seed_service):
    """50 threads search the one shared searcher at once (as the app's sessions do); every result equals
    the result of the same query run alone, and memory does not grow round after round."""
    from retrieval.search import SearchParams

    searcher = seed_service.searcher
    queries = _questions(50)
    params = SearchParams(k=5)
    expected = {q: [h.chunk.id for h in searcher.search(q, params)] for q in queries}
    barrier = threading.Barrier(50)

    def one(query: str) -> list[str]:
        barrier.wait(timeout=120)
        return [h.chunk.id for h in searcher.search(query, params)]

    def round_() -> None:
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(one, queries))
        for query, got in zip(queries, results, strict=True):
            assert got == expected[query], f"concurrent search changed the result of {query!r}"

    round_()  # warm-up: thread stacks, allocator arenas
    gc.collect()
    before = rss_mb()
    for _ in range(4):
        round_()
    gc.collect()
    growth = rss_mb() - before
    print(f"\nRSS growth over 4 x 50 concurrent searches (real embedder): {growth:.1f} MB")
    assert growth < GROWTH_BOUND_MB

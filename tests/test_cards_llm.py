"""LLM question cards with a scripted model at the LLM seam: a question whose answer the claim checker ties to its
unit becomes a card citing the unit's lines; one it cannot tie (or that gives its answer away) is dropped; the
cache keeps questions (and card ids) without asking again."""

from __future__ import annotations

import re

import pytest

from assistant.cards_llm import CACHE_FILE, question_cards
from assistant_fakes import ScriptedLLM
from learn_helpers import ingest_seed


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return ingest_seed(tmp_path_factory.mktemp("cards-llm") / "ws")


def _unit_of(prompt: str) -> str:
    return re.search(r"(?:笔记内容|Note)[:：]\s*(.+?)\n", prompt).group(1)


def faithful(prompt: str) -> str:
    unit = _unit_of(prompt)
    return f"这段笔记讲了什么？\n答案：{unit}"


def half_wrong(prompt: str) -> str:
    unit = _unit_of(prompt)
    if len(unit) % 2:  # an answer about something else: the checker cannot tie it to the unit
        return "这段笔记讲了什么？\n答案：月亮是用绿色奶酪做的，每天晚上唱京剧"
    return f"这段笔记讲了什么？\n答案：{unit}"


def test_tied_questions_become_cards_citing_their_unit(seed):
    llm = ScriptedLLM(reply=faithful)
    cards = question_cards(llm, seed.graph, seed.chunks, seed.workspace.root, limit=6)
    assert len(llm.prompts) == 6 and 1 <= len(cards) <= 6
    for card in cards:
        assert card.kind == "question" and card.front.endswith("？")
        chunk = seed.chunks[card.citation.chunk_id]
        assert chunk.line_start <= card.citation.line_start <= card.citation.line_end <= chunk.line_end
        assert card.back == card.passage and card.concept_id in seed.graph
    assert (seed.workspace.root / CACHE_FILE).is_file()
    again = question_cards(None, seed.graph, seed.chunks, seed.workspace.root, limit=6)  # the cache alone
    assert [c.id for c in again] == [c.id for c in cards]


def test_untied_questions_are_dropped(seed, tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    llm = ScriptedLLM(reply=half_wrong)
    cards = question_cards(llm, seed.graph, seed.chunks, root, limit=12)
    asked = [_unit_of(p) for p in llm.prompts]
    tied = [u for u in asked if len(u) % 2 == 0]
    assert len(cards) <= len(tied) < len(asked) and (cards or not tied)
    assert all(len(c.back.split("：")[-1]) >= 1 for c in cards)
    assert not any("奶酪" in c.back for c in cards)

"""Question cards written by the LLM (optional, `learn.llm_questions`): a short question whose answer is one unit
of the notes. The model also writes a short answer; the claim checker must tie that answer to the unit, or the
question is dropped. The card's back is the unit itself, in the notes' own words, citing its lines.

Questions are cached by the unit's text in `<workspace>/cards-llm.json` (beside the profile): an unchanged unit
keeps its question (and so its card id and review history) without asking the model again.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from assistant.claims import check_claim
from assistant.llm import LLM, GenerationParams
from assistant.units import Unit, split_units
from kg.cards import Card, card_id
from kg.graph import ConceptGraph
from studygraph.records import Chunk, SourceRef, content_id
from studygraph.text import language_of
from studygraph.workspace import atomic_write_json

log = logging.getLogger(__name__)

CACHE_FILE = "cards-llm.json"
UNIT_KINDS = ("sentence", "list_item", "table_row", "formula")
MIN_UNIT_CHARS = 8  # shorter units (a bare name) make questions with nothing to recall
_PROMPTS = {
    "zh": "根据下面的笔记内容，写一个简短的问题，它的答案就是这段内容；再用一句话回答。\n"
          "只输出两行：\n问题：…\n答案：…\n\n笔记内容：{unit}\n\n问题：",
    "en": "Write one short question whose answer is the note below, then answer it in one sentence.\n"
          "Output exactly two lines:\nQuestion: ...\nAnswer: ...\n\nNote: {unit}\n\nQuestion:",
}
_ANSWER = re.compile(r"^\s*(?:答案|Answer)\s*[:：]\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def _parse(reply: str) -> tuple[str, str] | None:
    """(question, answer) from the model's two lines (the prompt already opened the question line)."""
    answer = _ANSWER.search(reply)
    if not answer:
        return None
    question = reply[:answer.start()].strip().splitlines()
    question_text = re.sub(r"^\s*(?:问题|Question)\s*[:：]\s*", "", question[0] if question else "").strip()
    return (question_text, answer.group(1).strip()) if question_text else None


def _ask(llm: LLM, unit: Unit) -> tuple[str, str] | None:
    prompt = _PROMPTS[language_of(unit.full_text)].format(unit=unit.full_text)
    params = GenerationParams(max_tokens=96, temperature=0.1, stop=("\n\n",))
    try:
        return _parse("".join(llm.complete(prompt, params)))
    except Exception:  # noqa: BLE001 - a model failure costs this card only, never the deck
        log.warning("the LLM failed on a question card; skipped", exc_info=True)
        return None


def verified_question(question: str, answer: str, unit: Unit) -> bool:
    """Whether the question is tied to its unit: the model's answer is backed by the unit, and the question
    does not already contain the unit (a question that gives its answer away is no question)."""
    if not question or len(question) > 200 or unit.text.strip() in question:
        return False
    return check_claim(answer, unit.full_text, language_of(answer), given=question).ok


def _card(question: str, unit: Unit, chunk: Chunk, concept_id: str, graph: ConceptGraph) -> Card:
    front = question if question.endswith(("?", "？")) else question + ("？" if language_of(question) == "zh" else "?")
    ref = SourceRef(chunk_id=chunk.id, source=chunk.source, heading_path=chunk.heading_path,
                    line_start=unit.line_start, line_end=unit.line_end)
    return Card(id=card_id("question", front, unit.full_text), kind="question", concept=graph.concept(concept_id).name,
                concept_id=concept_id, front=front, back=unit.full_text, citation=ref, passage=unit.full_text)


def _defining_units(graph: ConceptGraph, chunks: Mapping[str, Chunk]) -> Iterable[tuple[Unit, Chunk, str]]:
    """Units of each concept's defining passages (no code), concept by concept in reading order."""
    seen: set[str] = set()
    for concept in graph.concepts:
        for chunk_id in concept.chunks:
            chunk = chunks.get(chunk_id)
            if chunk is None:
                continue
            for unit in split_units(chunk):
                key = content_id(unit.full_text)
                if unit.kind in UNIT_KINDS and len(unit.text) >= MIN_UNIT_CHARS and key not in seen:
                    seen.add(key)
                    yield unit, chunk, concept.id


def question_cards(llm: LLM | None, graph: ConceptGraph, chunks: Mapping[str, Chunk], workspace_root: Path,
                   limit: int = 20) -> list[Card]:
    """Question cards for the concepts' defining units: cached ones, plus up to `limit` new ones asked now.

    Args:
        llm: the model; None uses the cache alone.
        graph: the concept graph (which passages define which concept).
        chunks: chunk records by id.
        workspace_root: where the cache lives.
        limit: most units sent to the model in this call (the bundled model takes seconds per question).
    """
    path = workspace_root / CACHE_FILE
    cache: dict[str, dict] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    asked = 0
    cards = []
    for unit, chunk, concept_id in _defining_units(graph, chunks):
        key = content_id(unit.full_text)
        if key not in cache and llm is not None and asked < limit:
            asked += 1
            parsed = _ask(llm, unit)
            ok = parsed is not None and verified_question(*parsed, unit)
            cache[key] = {"question": parsed[0] if parsed else "", "answer": parsed[1] if parsed else "", "ok": ok}
        entry = cache.get(key)
        if entry and entry["ok"]:
            cards.append(_card(entry["question"], unit, chunk, concept_id, graph))
    if asked:
        atomic_write_json(path, cache)
    return cards

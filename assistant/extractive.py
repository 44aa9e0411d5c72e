"""Extractive answers: the passages' own sentences (or list, formula, code blocks) that best match a question."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.text import content_tokens, split_sentences
from assistant.verify import citation_for, looks_like_injection
from studygraph.records import Chunk, Citation
from studygraph.text import language_of

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)、])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_EMPHASIS = re.compile(r"\*\*|__")
_WANTS_CODE = re.compile(
    r"代码|怎么写|实现|函数|调用|接口|命令|怎么用|如何用|用哪个|\b(code|implement\w*|function|class|api|snippet|command"
    r"|python|numpy|pandas|pytorch|torch|sklearn|scikit-learn|tensorflow|keras|hugging\s?face|onnx|mlflow|optuna"
    r"|how\s+do\s+i|how\s+to|define|write)\b",
    re.IGNORECASE,
)
CODE_PENALTY = 0.6  # a code block answers "what is X" less well than a sentence does, unless code is asked for
MAX_UNIT_CHARS = 320
LEAD_PASSAGES = 2
MAX_CODE_LINES = 14


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage: a sentence, a list with its lead-in, a table, a formula or a code block."""

    text: str
    position: int
    kind: str = "prose"


def _clean(line: str) -> str:
    return _EMPHASIS.sub("", _LIST_ITEM.sub("", line)).strip()


def _close_list(units: list[Unit], lead: str | None, items: list[str], zh: bool) -> None:
    if not items:
        if lead:
            units.append(Unit(lead, len(units)))
        return
    joined = ("；" if zh else "; ").join(items)
    text = f"{lead.rstrip('：:')}：{joined}" if lead and zh else f"{lead.rstrip('：:')}: {joined}" if lead else joined
    units.append(Unit(text, len(units), "list"))


def _blocks(lines: list[str], start: int, fence: str) -> tuple[list[str], int]:
    block = [lines[start]]
    i = start + 1
    while i < len(lines):
        block.append(lines[i])
        if lines[i].strip().startswith(fence):
            break
        i += 1
    return block, i + 1


def passage_units(text: str) -> list[Unit]:
    """Split a passage into quotable units, keeping lists with their lead-in line and code as one block."""
    zh = language_of(text) == "zh"
    lines = text.splitlines()
    units: list[Unit] = []
    lead: str | None = None
    items: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~", "$$")):
            label = lead if lead and not items else None  # "自注意力：" introduces the formula below it
            if label is None:
                _close_list(units, lead, items, zh)
            lead, items = None, []
            fence = "$$" if stripped.startswith("$$") else stripped[:3]
            if fence == "$$" and len(stripped) > 2 and stripped.endswith("$$") and stripped != "$$":
                block, i = [line], i + 1
            else:
                block, i = _blocks(lines, i, fence)
            kind = "formula" if fence == "$$" else "code"
            if kind == "code" and len(block) > MAX_CODE_LINES:
                block = block[: MAX_CODE_LINES - 1] + ["...", block[-1]]
            units.append(Unit("\n".join(([label] if label else []) + block), len(units), kind))
            continue
        i += 1
        if not stripped or _HEADING.match(line):
            _close_list(units, lead, items, zh)
            lead, items = None, []
            continue
        if set(stripped) <= set("-*_=|: "):  # rules and table separators
            continue
        if _LIST_ITEM.match(line):
            items.append(_clean(line))
            continue
        _close_list(units, lead, items, zh)
        lead, items = None, []
        cleaned = _clean(line)
        if stripped.startswith("|"):
            units.append(Unit(cleaned, len(units), "table"))
        elif cleaned.endswith(("：", ":")):
            lead = cleaned
        else:
            units.extend(Unit(s, len(units) + k) for k, s in enumerate(split_sentences(cleaned)))
    _close_list(units, lead, items, zh)
    return [u for u in units if not looks_like_injection(u.text)]


def _shorten(text: str, limit: int = MAX_UNIT_CHARS) -> str:
    if len(text) <= limit or "```" in text or "$$" in text:
        return text
    cut = max(text.rfind(p, 0, limit) for p in ("。", "；", ". ", "; ", "，", ", "))
    return (text[: cut + 1] if cut > limit // 3 else text[:limit]).rstrip() + "…"


def score_unit(question_tokens: Sequence[str], unit: Unit, heading: str, idf: Callable[[str], float]) -> float:
    """IDF-weighted share of the question's words that the unit (or, at half weight, its heading) contains."""
    wanted = set(question_tokens)
    if not wanted:
        return 0.0
    total = sum(idf(t) for t in wanted)
    in_unit = set(content_tokens(unit.text))
    in_heading = set(content_tokens(heading))
    score = sum(idf(t) for t in wanted & in_unit) + 0.5 * sum(idf(t) for t in (wanted & in_heading) - in_unit)
    return score / total if total else 0.0


def extractive_answer(
    question: str,
    chunks: Sequence[Chunk],
    *,
    max_units: int = 3,
    idf: Callable[[str], float] | None = None,
    per_chunk: int = 2,
) -> tuple[str, tuple[Citation, ...]]:
    """Quote the units of the top passages that best match the question, each followed by its `[n]`.

    Args:
        question: the user's question.
        chunks: passages, best first (the caller has judged them relevant).
        max_units: units quoted at most.
        idf: weight of a question word (rarer words matter more); uniform when None.
        per_chunk: units quoted at most from one passage.

    Returns:
        The answer text and its citations, numbered 1..m in order of appearance.
    """
    weight = idf or (lambda _t: 1.0)
    q_tokens = content_tokens(question)
    code_factor = 1.0 if _WANTS_CODE.search(question) else CODE_PENALTY
    scored: list[tuple[float, int, Unit]] = []
    for rank, chunk in enumerate(chunks):
        heading = " ".join(chunk.heading_path)
        prior = 1.0 - 0.08 * rank  # among equally good matches, trust the ranking
        for unit in passage_units(chunk.text):
            factor = prior * (code_factor if unit.kind == "code" else 1.0)
            scored.append((score_unit(q_tokens, unit, heading, weight) * factor, rank, unit))
    if not scored:
        return "", ()
    picked = _pick(scored, max_units, per_chunk)
    picked.sort(key=lambda item: (item[1], item[2].position))
    numbers: dict[int, int] = {}
    lines = []
    for _, rank, unit in picked:
        n = numbers.setdefault(rank, len(numbers) + 1)
        text = _shorten(unit.text)
        lines.append(f"{text}\n[{n}]" if unit.kind in ("code", "formula") else f"{text} [{n}]")
    citations = tuple(citation_for(n, chunks[rank]) for rank, n in numbers.items())
    return "\n".join(lines), citations


def _pick(scored: list[tuple[float, int, Unit]], max_units: int, per_chunk: int) -> list[tuple[float, int, Unit]]:
    best = max(s for s, _, _ in scored)
    if best <= 0:  # nothing matches word for word: open the best passage
        first = [item for item in scored if item[1] == scored[0][1]]
        prose = [item for item in first if item[2].kind not in ("code",)] or first
        return prose[:max_units]
    ranked = sorted(scored, key=lambda item: (-item[0], item[1], item[2].position))
    # The retrieval ranking weighs meaning as well as words (a question in English about Chinese notes shares few
    # words with them): the two top passages get their best unit quoted, then the best units anywhere fill in.
    ranks = sorted({rank for _, rank, _ in scored})
    picked = [next(item for item in ranked if item[1] == rank) for rank in ranks[:LEAD_PASSAGES]][:max_units]
    per: dict[int, int] = {item[1]: 1 for item in picked}
    for item in ranked:
        if item[0] < best * 0.5 or len(picked) >= max_units:
            break
        if any(item is p for p in picked) or per.get(item[1], 0) >= per_chunk:
            continue
        per[item[1]] = per.get(item[1], 0) + 1
        picked.append(item)
    return picked

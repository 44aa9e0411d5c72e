"""Retrieval evaluation: question sets with gold headings or quotes, recall@k and MRR per search mode."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from studygraph.errors import InputError
from studygraph.records import Chunk, Hit

MODES = ("dense", "lexical", "hybrid")
# Leading section numbers: "1.1 ", "3. ", "一、", "(2) ", "第三章 ".
# The number must be followed by a separator or a space: "3D卷积" and "1*1 卷积" keep their digits.
_NUMBERING = re.compile(
    r"^(?:\(?\d+(?:\.\d+)*\)?(?:[.、)]\s*|\s+)|[一二三四五六七八九十百]+[、.．]\s*|第[一二三四五六七八九十百\d]+[章节部分]\s*)"
)
_MARKUP = re.compile(r"[*_`#>\[\]]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QAItem:
    """One evaluation question: relevant passages sit under `heading` and/or contain `quote`.

    `split` is the question's fixed half of its set: "tune" (weights and thresholds may be fitted on it) or
    "test" (only reported); None for sets that are not split.
    """

    q: str
    heading: str | None = None
    quote: str | None = None
    lang: str | None = None
    split: str | None = None


SPLITS = ("tune", "test")


def load_qa(path: Path, split: str | None = None) -> list[QAItem]:
    """Read a JSONL question set: each line {"q", "heading"?, "quote"?, "lang"?, "split"?}.

    Args:
        path: the JSONL file.
        split: keep only the questions of this half ("tune" or "test"); None keeps every question.

    Raises:
        InputError: the file is missing, a line is not JSON, or a line has no question, no gold or an unknown
            split; or no question is left.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"Cannot read the question set {path}: {exc.strerror}.") from None
    items = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {lineno} is not valid JSON ({exc.msg}).") from None
        if not isinstance(row, dict) or not str(row.get("q", "")).strip():
            raise InputError(f"{path} line {lineno} has no question (field 'q').")
        if not (row.get("heading") or row.get("quote")):
            raise InputError(f"{path} line {lineno} has neither a gold 'heading' nor a 'quote'.")
        if row.get("split") not in (None, *SPLITS):
            raise InputError(f"{path} line {lineno} has split {row['split']!r}; use one of {', '.join(SPLITS)}.")
        items.append(QAItem(q=row["q"], heading=row.get("heading"), quote=row.get("quote"), lang=row.get("lang"),
                            split=row.get("split")))
    if split is not None:
        items = [item for item in items if item.split == split]
    if not items:
        raise InputError(f"The question set {path} is empty" + (f" (no '{split}' questions)." if split else "."))
    return items


def normalize_heading(heading: str) -> str:
    """A heading compared loosely: NFKC, case-folded, markup and leading section numbers removed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", heading).strip().lstrip("*_`#> ")
    text = _MARKUP.sub("", _NUMBERING.sub("", text, count=1))
    return _SPACE.sub(" ", text).strip().casefold()


def normalize_text(text: str) -> str:
    """Text compared loosely: NFKC, case-folded, all whitespace removed (line breaks in notes do not matter)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def heading_matches(heading_path: Sequence[str], gold: str) -> bool:
    """The gold heading is on the path; a gold "A > B" must appear as consecutive headings (for generic names)."""
    wanted = [normalize_heading(part) for part in gold.split(" > ")]
    have = [normalize_heading(h) for h in heading_path]
    return any(have[i:i + len(wanted)] == wanted for i in range(len(have) - len(wanted) + 1))


def is_relevant(chunk: Chunk, item: QAItem) -> bool:
    """A passage answers the question when a heading on its path is the gold heading or it contains the quote."""
    if item.heading and heading_matches(chunk.heading_path, item.heading):
        return True
    return bool(item.quote) and normalize_text(item.quote) in normalize_text(chunk.text)


def first_relevant_rank(hits: Sequence[Hit], item: QAItem) -> int | None:
    """Rank (from 1) of the first relevant hit, None when no hit is relevant."""
    return next((hit.rank for hit in hits if is_relevant(hit.chunk, item)), None)


def metrics(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, float]:
    """recall@k for each k (share of questions answered within the top k) and MRR (0 when not found)."""
    n = len(ranks) or 1
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in ks}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
    return out


SearchMany = Callable[[Sequence[str], str, int], list[list[Hit]]]


def evaluate(items: Sequence[QAItem], search_many: SearchMany, ks: Sequence[int],
             modes: Sequence[str] = MODES) -> dict:
    """Run every question through every mode and score the rankings.

    Args:
        items: the question set.
        search_many: (queries, mode, k) -> hits per query (e.g. a HybridSearcher's search_many).
        ks: cut-offs for recall@k; the searches ask for max(ks) hits.
        modes: search modes to compare.

    Returns:
        {"n", "ks", "modes": {mode: {"recall@k"..., "mrr"}}, "by_lang": {lang: {mode: metrics}},
        "questions": [{"q", "lang", "ranks": {mode: rank or None}}]}.
    """
    if not ks or min(ks) < 1:
        raise InputError("Give recall cut-offs of at least 1, e.g. --k 1,5,10.")
    depth = max(ks)
    queries = [item.q for item in items]
    ranks: dict[str, list[int | None]] = {}
    for mode in modes:
        results = search_many(queries, mode, depth)
        ranks[mode] = [first_relevant_rank(hits, item) for hits, item in zip(results, items, strict=True)]
    langs = sorted({item.lang for item in items if item.lang})
    by_lang = {
        lang: {mode: metrics([r for r, it in zip(ranks[mode], items, strict=True) if it.lang == lang], ks)
               for mode in modes}
        for lang in langs
    }
    return {
        "n": len(items),
        "ks": list(ks),
        "modes": {mode: metrics(ranks[mode], ks) for mode in modes},
        "by_lang": by_lang,
        "questions": [
            {"q": item.q, "lang": item.lang, "ranks": {mode: ranks[mode][i] for mode in modes}}
            for i, item in enumerate(items)
        ],
    }


def parse_ks(text: str) -> list[int]:
    """'1,5,10' -> [1, 5, 10] (sorted, unique).

    Raises:
        InputError: not a comma-separated list of positive integers.
    """
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InputError(f"--k takes comma-separated positive integers like 1,5,10 (got {text!r}).") from None
    if not ks or ks[0] < 1:
        raise InputError(f"--k takes comma-separated positive integers like 1,5,10 (got {text!r}).")
    return ks

"""Is the answer in the notes at all? Dense, lexical and concept signals of the passages retrieved for a question."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.text import CJK, cjk_bigrams, cjk_ratio, content_tokens, split_camel
from studygraph.records import Chunk, Hit

# Calibrated with `python bench/answers.py --calibrate` on the seed (60 dev questions, 24 out-of-domain ones): the
# question names a concept of the graph for 40 of the 60 dev questions and for none of the OOD ones. The coverage
# of OOD questions is at most 0.22 ("who won the 2018 World Cup": "world" is in a code sample), of concept-less dev
# questions 0.24-0.80 bar three vocabulary mismatches (0.00-0.08); 0.25 sits in the gap. The best dense cosine of
# English OOD questions is at most 0.20, of English dev questions 0.24-0.70. With (0.25, 0.3), 57/60 dev questions
# count as answerable and 24/24 OOD questions as not found.
DEFAULT_COVERAGE_THRESHOLD = 0.25
DEFAULT_DENSE_THRESHOLD = 0.35


class CorpusStats:
    """Document frequencies over the workspace's chunks of content words and CJK bigrams, for IDF weights."""

    def __init__(self, chunks: Iterable[Chunk]):
        self.df: Counter[str] = Counter()
        self.n = 0
        for chunk in chunks:
            self.n += 1
            text = chunk.context_text()
            self.df.update(set(content_tokens(text)) | cjk_bigrams(text))

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency; a word absent from the notes weighs most."""
        return math.log((self.n + 1) / (self.df.get(token, 0) + 0.5)) + 1.0


@dataclass(frozen=True)
class Relevance:
    """The signals behind the not-found decision, kept for calibration and display."""

    dense: float
    coverage: float
    concepts: tuple[str, ...]
    relevant: bool


def _contains(haystack: str, token: str) -> bool:
    if CJK.search(token):
        return token in haystack
    return re.search(rf"(?<![a-z0-9]){re.escape(token)}", haystack) is not None


def coverage(question: str, chunks: Sequence[Chunk], idf) -> float:  # noqa: ANN001 - Callable[[str], float]
    """IDF-weighted share of the question's content words found in the passages (headings included)."""
    wanted = set(content_tokens(question))
    if not wanted:
        return 0.0
    haystack = split_camel("\n".join(c.context_text() for c in chunks)).lower()
    total = sum(idf(t) for t in wanted)
    found = sum(idf(t) for t in wanted if _contains(haystack, t))
    return found / total if total else 0.0


def english_prose(passages: Sequence[Chunk]) -> bool:
    """Whether most of the passages that are not code are written in English."""
    prose = [c for c in passages if c.kind != "code"]
    return bool(prose) and 2 * sum(c.language == "en" for c in prose) > len(prose)


def judge_relevance(
    question: str,
    hits: Sequence[Hit],
    idf,  # noqa: ANN001 - Callable[[str], float]
    concepts: Sequence[str] = (),
    *,
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD,
    dense_threshold: float = DEFAULT_DENSE_THRESHOLD,
    cjk_dense_threshold: float | None = None,
    top: int = 3,
) -> Relevance:
    """Decide whether the retrieved passages can answer the question.

    Args:
        question: the user's question.
        hits: retrieved passages, best first (`scores["dense"]` is the dense cosine where known).
        idf: word weights over the workspace.
        concepts: ids of graph concepts the question names.
        coverage_threshold: least IDF-weighted share of question words found in the top passages (not used for
            English questions over English passages).
        dense_threshold: a best dense cosine at least this high makes a mostly-Latin question relevant on its own.
        cjk_dense_threshold: the same for mostly-Chinese questions; None turns the dense signal off for them (the
            bundled English MiniLM gives any two Chinese texts a cosine of 0.4-0.7, whatever their topics).
        top: passages looked at.

    Returns:
        The signals and the decision.
    """
    if not hits:
        return Relevance(0.0, 0.0, tuple(concepts), False)
    passages = [h.chunk for h in hits[:top]]
    dense = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
    cov = coverage(question, passages, idf)
    latin_question = cjk_ratio(question) < 0.5
    threshold = dense_threshold if latin_question else cjk_dense_threshold
    by_dense = threshold is not None and dense >= threshold
    # In English notes, the lexical ranking brings up passages holding a question's rarer English words whatever
    # it asks ("capital of Australia"), so word coverage says little there; the embedder reads English well.
    # Code does not count as English prose: Chinese notes name their identifiers in English too.
    same_script_latin = latin_question and english_prose(passages)
    by_coverage = cov >= coverage_threshold and not same_script_latin
    return Relevance(dense, cov, tuple(concepts), bool(concepts) or by_coverage or by_dense)

"""Is the answer in the notes at all? Concept, domain-word, lexical and dense signals of the retrieved passages."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import content_tokens, jieba_module, split_camel
from studygraph.records import Chunk, Hit
from studygraph.settings import AssistantSettings
from studygraph.text import CJK, cjk_bigrams, language_of

# Calibrated with `python bench/answers.py --calibrate` on the seed and on both corpora (their dev questions and the
# 24 out-of-domain ones of tests/data/ood-questions.jsonl); see bench/answers.py for the table.
# - A question naming a concept of the graph is answerable: 40/60 seed dev questions, 22/24 and 21/24 on the
#   corpora, no OOD question.
# - Chinese questions: the domain evidence of OOD questions is at most 0.9 ("怎么给猫剪指甲": cat pictures are in
#   the Paddle notes), of concept-less dev questions 2.8-22.5 bar one (1.2); 1.5 sits between them. Word coverage
#   cannot tell them apart on the larger Paddle notes (OOD up to 0.47) and the bundled English MiniLM cannot read
#   Chinese (any two Chinese texts score 0.4-0.7).
# - English questions over Chinese notes: coverage of OOD questions at most 0.22, of dev questions 0.24-0.80
#   (0.25); the dense cosine of OOD questions at most 0.20.
# - English questions over English notes: OOD dense cosine at most 0.30, dev at least 0.45 (0.35); coverage is not
#   used there (the lexical ranking brings up passages holding the rarer words of any question).
# The values themselves live once, as the defaults of `AssistantSettings` (domain_threshold, coverage_threshold,
# not_found_threshold).
_DEFAULTS = AssistantSettings()
_MAX_WORD_EVIDENCE = 8.0
_PRIOR_TOKENS = 5000

Weight = Callable[[str], float]


class CorpusStats:
    """Word statistics of the workspace's chunks: document frequencies (IDF) and token frequencies."""

    def __init__(self, chunks: Iterable[Chunk]):
        self.df: Counter[str] = Counter()
        self.tf: Counter[str] = Counter()
        self.n = 0
        for chunk in chunks:
            self.n += 1
            text = chunk.context_text()
            tokens = content_tokens(text)
            self.tf.update(tokens)
            self.df.update(set(tokens) | cjk_bigrams(text))
        self.total = max(1, sum(self.tf.values()))

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency; a word absent from the notes weighs most."""
        return math.log((self.n + 1) / (self.df.get(token, 0) + 0.5)) + 1.0

    def specificity(self, token: str) -> float:
        """How characteristic of these notes a Chinese word is: log of its frequency here over its frequency in
        general Chinese (jieba's dictionary), 0 when it is no more frequent here; capped."""
        freq, total = _general_frequencies()
        general = (freq.get(token, 0) + 1) / total
        # Dirichlet smoothing towards general Chinese: in a few notes, one everyday word is no evidence.
        here = (self.tf.get(token, 0) + _PRIOR_TOKENS * general) / (self.total + _PRIOR_TOKENS)
        return min(_MAX_WORD_EVIDENCE, max(0.0, math.log(here / general)))


@lru_cache(maxsize=1)
def _general_frequencies() -> tuple[dict[str, int], int]:
    jieba = jieba_module()
    return jieba.dt.FREQ, jieba.dt.total


@dataclass(frozen=True)
class Relevance:
    """The signals behind the not-found decision, kept for calibration and display."""

    dense: float
    coverage: float
    concepts: tuple[str, ...]
    relevant: bool
    domain: float = 0.0


def _contains(haystack: str, token: str) -> bool:
    if CJK.search(token):
        return token in haystack
    return re.search(rf"(?<![a-z0-9]){re.escape(token)}", haystack) is not None


def _haystack(chunks: Sequence[Chunk]) -> str:
    return split_camel("\n".join(c.context_text() for c in chunks)).lower()


def _found(haystack: str, token: str) -> bool:
    """A question word the passages contain; a number never counts as found (a year matches notes on any topic)."""
    return not token[0].isdigit() and _contains(haystack, token)


def coverage(question: str, chunks: Sequence[Chunk], idf: Weight) -> float:
    """IDF-weighted share of the question's content words found in the passages (headings included)."""
    wanted = set(content_tokens(question))
    if not wanted:
        return 0.0
    haystack = _haystack(chunks)
    total = sum(idf(t) for t in wanted)
    found = sum(idf(t) for t in wanted if _found(haystack, t))
    return found / total if total else 0.0


def domain_evidence(question: str, chunks: Sequence[Chunk], stats: CorpusStats) -> float:
    """Sum of the specificity of the question's Chinese words that the passages contain (English words are
    technical terms in Chinese questions and count fully): matching on 猫 or 作者 says little, on 余弦退火 much."""
    haystack = _haystack(chunks)
    score = 0.0
    for token in set(content_tokens(question)):
        if _found(haystack, token):
            score += stats.specificity(token) if CJK.search(token) else _MAX_WORD_EVIDENCE
    return score


def english_prose(passages: Sequence[Chunk]) -> bool:
    """Whether most of the passages that are not code are written in English."""
    prose = [c for c in passages if c.kind != "code"]
    return bool(prose) and 2 * sum(c.language == "en" for c in prose) > len(prose)


@dataclass(frozen=True)
class Thresholds:
    """Where each signal starts to count (see the calibration note at the top of this module)."""

    domain: float = _DEFAULTS.domain_threshold
    coverage: float = _DEFAULTS.coverage_threshold
    dense: float = _DEFAULTS.not_found_threshold
    cjk_dense: float | None = _DEFAULTS.cjk_not_found_threshold


def judge_relevance(question: str, hits: Sequence[Hit], stats: CorpusStats, concepts: Sequence[str] = (),
                    thresholds: Thresholds | None = None, top: int = 3) -> Relevance:
    """Decide whether the retrieved passages can answer the question.

    A question that names a concept of the graph is answerable. Otherwise a mostly-Chinese question needs domain
    evidence (or, with a multilingual embedder, `cjk_dense`); an English question needs a high dense cosine, or,
    over Chinese notes, enough of its words in the top passages.

    Args:
        question: the user's question.
        hits: retrieved passages, best first (`scores["dense"]` is the dense cosine where known).
        stats: word statistics of the workspace.
        concepts: ids of graph concepts the question names.
        thresholds: where each signal counts.
        top: passages looked at.

    Returns:
        The signals and the decision.
    """
    t = thresholds or Thresholds()
    if not hits:
        return Relevance(0.0, 0.0, tuple(concepts), False)
    passages = [h.chunk for h in hits[:top]]
    dense = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
    cov = coverage(question, passages, stats.idf)
    if language_of(question) == "zh":
        domain = domain_evidence(question, passages, stats)
        signal = domain >= t.domain or (t.cjk_dense is not None and dense >= t.cjk_dense)
    else:
        domain = 0.0
        signal = dense >= t.dense or (cov >= t.coverage and not english_prose(passages))
    return Relevance(dense, cov, tuple(concepts), bool(concepts) or signal, domain)

"""Checks a model's answer against its sources: citation markers, per-sentence support, degenerate output."""

from __future__ import annotations

import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from assistant.prompts import NOT_IN_NOTES, Prompt, example_texts
from assistant.text import (
    content_tokens,
    markers_in,
    split_sentences,
    strip_markers,
)
from studygraph.records import Chunk, Citation
from studygraph.settings import AssistantSettings
from studygraph.text import CJK, LATIN_WORD, cjk_bigrams, cjk_share

log = logging.getLogger(__name__)

# Calibrated with `python bench/answers.py --calibrate`, IDF-weighted as the assistant does: sentences of the passages
# that answer the dev questions, scored against their own passage (verbatim; a third of their words dropped; a
# filler clause added; clauses reordered and joined by connectives) and against an unrelated passage of the same
# notes. At 0.3, the share of restatements rejected / unrelated sentences accepted is 1.9 % / 1.9 % on the seed
# (216 / 54 sentences), 0.4 % / 3.1 % on the Paddle notes, 3.2 % / 2.0 % on the CS231n notes.
# The value lives once, as `AssistantSettings.support_threshold`'s default.
DEFAULT_SUPPORT_THRESHOLD = AssistantSettings().support_threshold

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+)?(previous|prior|above|earlier|preceding|your)\s+"
    r"(instructions?|prompts?|rules|directions)"
    r"|\b(you\s+are\s+now|new\s+instructions?|system\s+prompt|reply\s+(only\s+)?with|respond\s+(only\s+)?with"
    r"|reply\s+(?-i:[\"'“]?[A-Z]{4,}\b)|say\s+[\"'][^\"']+[\"']\s+only)"
    r"|(忽略|无视|忘记|忘掉)(掉)?(之前|以上|上面|前面|先前|所有|全部)?的?(所有|全部)?(指令|指示|说明|规则|提示|要求)"
    r"|(你现在是|新的指令|系统提示|只回复|只回答|请回复)",
    re.IGNORECASE,
)
Weight = Callable[[str], float]
_MIN_FEATURES = 2
_MIN_NEW_WORDS = 2


def looks_like_injection(text: str) -> bool:
    """Whether a passage sentence is written as an instruction to an assistant (it never supports a claim)."""
    return bool(_INJECTION.search(text))


def features(text: str) -> set[str]:
    """What support is measured on: content words (jieba for Chinese), plus the character bigrams inside longer
    Chinese words (低秩矩阵 still meets 低秩 and 矩阵; bigrams across word boundaries would only add noise)."""
    words = set(content_tokens(strip_markers(text)))
    return words | {gram for w in words if len(w) >= 3 and CJK.match(w) for gram in cjk_bigrams(w)}


def evidence_features(chunk: Chunk) -> set[str]:
    """Features of a chunk (its heading path included), leaving out sentences that look like injected orders."""
    kept = [s for s in split_sentences(chunk.text) if not looks_like_injection(s)]
    return features(" ".join(chunk.heading_path) + "\n" + "\n".join(kept))


def support_score(sentence: str, evidence: set[str], weight: Weight | None = None) -> float:
    """Share of the sentence's features found in the evidence, each weighted by its IDF when `weight` is given
    (generic words such as 学习 or model then count for little); 0 when the sentence has no features."""
    own = features(sentence)
    if not own:
        return 0.0
    if weight is None:
        return len(own & evidence) / len(own)
    return sum(weight(f) for f in own & evidence) / sum(weight(f) for f in own)


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence, the sources it cites (after repair) and how well they support it."""

    text: str
    cited: tuple[int, ...]
    support: float
    supported: bool
    checked: bool


@dataclass(frozen=True)
class Verification:
    """The outcome of checking an answer; `degenerate` names why it must be replaced (None when usable)."""

    text: str
    sentences: tuple[SentenceCheck, ...]
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]
    degenerate: str | None
    refused: bool = False


def drop_invalid_markers(text: str, n_sources: int) -> str:
    """The text without `[n]` markers whose number is not a source of the prompt."""
    def keep(match: re.Match[str]) -> str:
        return match.group(0) if 1 <= int(match.group(1)) <= n_sources else ""

    cleaned = re.sub(r"\s*\[\s*(\d{1,3})\s*\]", lambda m: keep(m), text)
    return re.sub(r"[ \t]+\n", "\n", cleaned).strip()


def _loop_key(sentence: str) -> str:
    """A sentence without markers, numbering and punctuation: '[3] 训练参数' and '[4] 训练参数' are the same line."""
    return re.sub(r"[\W\d_]+", "", strip_markers(sentence))


def is_repetitive(text: str) -> bool:
    """A repetition loop: a sentence said three times, or text that compresses far better than prose does."""
    sentences = [_loop_key(s) for s in split_sentences(text)]
    counts = Counter(s for s in sentences if len(s) >= 2)
    if counts and counts.most_common(1)[0][1] >= 3:
        return True
    raw = text.encode("utf-8")
    if len(raw) >= 160 and len(zlib.compress(raw, 9)) / len(raw) < 0.22:
        return True
    return has_tail_loop(text)


def has_tail_loop(text: str, min_period: int = 2, max_period: int = 80, repeats: int = 4) -> bool:
    """The text ends with the same piece said `repeats` times, or with a line said three times (numbering aside)."""
    lines = [_loop_key(line) for line in text.splitlines()[-4:-1]]  # complete lines only
    if len(lines) == 3 and lines[0] and lines.count(lines[0]) == 3:
        return True
    tail = text[-max_period * repeats:]
    for period in range(min_period, min(max_period, len(tail) // repeats) + 1):
        unit = tail[-period:]
        if unit.strip() and tail.endswith(unit * repeats):
            return True
    return False


def copies_prompt(answer: str, prompt: Prompt) -> bool:
    """Whether the answer reproduces the prompt's own words: instructions, the worked example, fences, labels."""
    plain = strip_markers(answer)
    if re.search(r"</?\s*source|<start_of_turn>|<end_of_turn>", answer, re.IGNORECASE):
        return True
    if re.search(r"(^|\n)\s*(Question:|问题：|Answer:|回答：)", plain):
        return True
    fixed = prompt.fixed_text + "\n" + "\n".join(example_texts(prompt.language))
    shingles = _shingles(plain)
    if not shingles:
        return False
    return len(shingles & _shingles(fixed)) / len(shingles) >= 0.5


def _shingles(text: str, size: int = 8) -> set[str]:
    squashed = re.sub(r"\s+", " ", text).strip()
    return {squashed[i : i + size] for i in range(max(0, len(squashed) - size + 1))}


def adds_nothing(answer: str, question: str) -> bool:
    """An answer with fewer than two content words of its own ("[1] 贝叶斯定理" to a question about 贝叶斯定理)."""
    new = set(content_tokens(strip_markers(answer))) - set(content_tokens(question))
    return len(new) < _MIN_NEW_WORDS


def too_short(answer: str, least: int = 10) -> bool:
    """An answer too short to say anything: under `least` units (a CJK character is one, a Latin word three)."""
    plain = strip_markers(answer)
    return len(CJK.findall(plain)) + 3 * len(LATIN_WORD.findall(plain)) < least


def wrong_language(answer: str, language: str) -> bool:
    """An answer that is clearly not in the question's language (names of concepts in the other one are fine)."""
    plain = strip_markers(answer)
    if len(plain) < 12:
        return False
    ratio = cjk_share(plain)
    return ratio < 0.2 if language == "zh" else ratio > 0.6


def is_refusal(answer: str) -> bool:
    """The model said the notes do not contain the answer (and nothing else of substance)."""
    plain = strip_markers(answer).strip().strip("\"“”'")
    phrases = (NOT_IN_NOTES["zh"].rstrip("。"), NOT_IN_NOTES["en"].rstrip("."), "没有相关内容", "do not cover",
               "don't cover", "do not contain", "does not contain", "not in the notes", "没有提到", "未提及")
    return len(plain) < 60 and any(p.lower() in plain.lower() for p in phrases)


def _assign_citations(sentences: list[str]) -> list[tuple[int, ...]]:
    """Markers per sentence; an uncited sentence borrows those of the next cited one on its line, else the last."""
    own = [tuple(dict.fromkeys(markers_in(s))) for s in sentences]
    assigned = list(own)
    for i, cited in enumerate(own):
        if cited:
            continue
        following = next((own[j] for j in range(i + 1, len(own)) if own[j]), ())
        previous = next((own[j] for j in range(i - 1, -1, -1) if own[j]), ())
        assigned[i] = following or previous
    return assigned


def check_sentences(text: str, prompt: Prompt, threshold: float, weight: Weight | None = None) -> list[SentenceCheck]:
    """Each sentence of a (marker-repaired) answer against the sources it cites."""
    # The whole chunk is evidence, even where the prompt held only its start: the claim is true of the notes.
    evidence = {s.n: evidence_features(s.chunk) for s in prompt.sources}
    sentences = split_sentences(text)
    checks = []
    for sentence, cited in zip(sentences, _assign_citations(sentences), strict=True):
        if len(features(sentence)) < _MIN_FEATURES and not markers_in(sentence):
            checks.append(SentenceCheck(sentence, cited, 0.0, True, checked=False))  # "Here is the answer:"
            continue
        score = max((support_score(sentence, evidence[n], weight) for n in cited), default=0.0)
        checks.append(SentenceCheck(sentence, cited, score, bool(cited) and score >= threshold, checked=True))
    return checks


def citation_for(n: int, chunk: Chunk, supported: bool = True) -> Citation:
    """A citation record built by our code from the chunk itself."""
    return Citation(n=n, chunk_id=chunk.id, source=chunk.source, heading_path=chunk.heading_path,
                    line_start=chunk.line_start, line_end=chunk.line_end, text=chunk.text, supported=supported)


def verify_answer(raw: str, prompt: Prompt, threshold: float = DEFAULT_SUPPORT_THRESHOLD,
                  question: str = "", weight: Weight | None = None) -> Verification:
    """Check a generated answer; `degenerate` says why it cannot be shown (then an extractive answer is used).

    Args:
        raw: the model's text, as generated.
        prompt: the prompt it answered, whose sources its `[n]` markers refer to.
        threshold: least support score of a cited sentence.
        question: the question, to reject answers that only repeat it.
        weight: IDF of a feature over the workspace (`CorpusStats.idf`), so that generic words weigh little.

    Returns:
        The repaired text, per-sentence checks, the citations (with `supported`), and any degeneracy reason.
    """
    text = drop_invalid_markers(raw.strip(), len(prompt.sources))
    reason = _degenerate_reason(raw, text, prompt, question)
    if reason == "refusal":
        return Verification(text, (), (), (), None, refused=True)
    checks = check_sentences(text, prompt, threshold, weight) if reason is None else []
    cited = sorted({n for c in checks for n in c.cited})
    if reason is None and not cited:
        reason = "no valid citation"
    supported_by = {n for c in checks if c.checked and c.supported for n in c.cited}
    if reason is None and not supported_by:
        reason = "no sentence is supported by the source it cites"
    checked = [c for c in checks if c.checked]
    if reason is None and len(checked) >= 3 and 2 * sum(c.supported for c in checked) <= len(checked):
        reason = "most sentences are not supported by their sources"
    citations = tuple(citation_for(n, prompt.sources[n - 1].chunk, n in supported_by) for n in cited)
    unsupported = tuple(c.text for c in checks if c.checked and not c.supported)
    if reason:
        log.info("answer rejected (%s): %r", reason, raw[:200])
    return Verification(text, tuple(checks), citations, unsupported, reason)


def _degenerate_reason(raw: str, text: str, prompt: Prompt, question: str) -> str | None:
    if not strip_markers(text):
        return "empty"
    if is_refusal(text):
        # An instruct model that says so is believed; a base model is only echoing the phrase its prompt showed it.
        return "refusal" if prompt.kind == "chat" else "copies the prompt's not-found phrase"
    if is_repetitive(raw):
        return "repetition loop"
    if copies_prompt(raw, prompt):
        return "copies the prompt"
    if wrong_language(text, prompt.language):
        return "wrong language"
    if question and adds_nothing(text, question):
        return "adds nothing to the question"
    if too_short(text):
        return "too short to answer"
    return None

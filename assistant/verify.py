"""Checks on a model's raw output and on note text: repetition loops, refusals, injected orders; citation records.

Claim-level checks of answer sentences are `assistant.claims`."""

from __future__ import annotations

import logging
import re
import zlib
from collections import Counter

from assistant.prompts import NOT_IN_NOTES
from assistant.text import split_sentences, strip_markers
from studygraph.records import Chunk, Citation

log = logging.getLogger(__name__)

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+)?(previous|prior|above|earlier|preceding|your)\s+"
    r"(instructions?|prompts?|rules|directions)"
    r"|\b(you\s+are\s+now|new\s+instructions?|system\s+prompt|reply\s+(only\s+)?with|respond\s+(only\s+)?with"
    r"|reply\s+(?-i:[\"'“]?[A-Z]{4,}\b)|say\s+[\"'][^\"']+[\"']\s+only)"
    r"|(忽略|无视|忘记|忘掉)(掉)?(之前|以上|上面|前面|先前|所有|全部)?的?(所有|全部)?(指令|指示|说明|规则|提示|要求)"
    r"|(你现在是|新的指令|系统提示|只回复|只回答|请回复)",
    re.IGNORECASE,
)


def looks_like_injection(text: str) -> bool:
    """Whether a passage sentence is written as an instruction to an assistant (it is never a fact)."""
    return bool(_INJECTION.search(text))


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


def is_refusal(answer: str) -> bool:
    """The model said the notes do not contain the answer (and nothing else of substance)."""
    plain = strip_markers(answer).strip().strip("\"“”'")
    phrases = (NOT_IN_NOTES["zh"].rstrip("。"), NOT_IN_NOTES["en"].rstrip("."), "没有相关内容", "do not cover",
               "don't cover", "do not contain", "does not contain", "not in the notes", "没有提到", "未提及")
    return len(plain) < 60 and any(p.lower() in plain.lower() for p in phrases)


def citation_for(n: int, chunk: Chunk, supported: bool = True) -> Citation:
    """A citation record built by our code from the chunk itself."""
    return Citation(n=n, chunk_id=chunk.id, source=chunk.source, heading_path=chunk.heading_path,
                    line_start=chunk.line_start, line_end=chunk.line_end, text=chunk.text, supported=supported)

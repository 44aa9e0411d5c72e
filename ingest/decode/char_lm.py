"""Language model for lossy mojibake repair: character trigrams (Kneser-Ney) and character priors."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

BOS, EOS = "\x02", "\x03"
# Runs of ASCII letters, digits and spaces each read as one token: the models are about Chinese text.
LETTERS, DIGITS, SPACE = "a", "0", " "
RUN_TOKENS = frozenset((LETTERS, DIGITS, SPACE))
DATA_FILE = "zh_char_lm.json.gz"
FORMAT = "studygraph-mojibake-lm/1"

# Frequency-like priors (same scale as jieba's dictionary counts, total ~6e7) for characters that jieba's
# dictionary does not hold: common CJK and general punctuation, symbols and emoji of study notes.
_PRIOR_GROUPS: tuple[tuple[float, str], ...] = (
    (500_000, "，"),
    (400_000, "。"),
    (150_000, "、"),
    (120_000, "："),
    (100_000, "“”"),
    (80_000, "（）"),
    (50_000, "！？"),
    (40_000, "；"),
    (30_000, "《》"),
    (20_000, "…—"),
    (10_000, "‘’·【】"),
    (5_000, "「」→\ufe0f"),
    (3_000, "•"),
    (2_000, "『』～←─\u3000"),
    (1_000, "〈〉↑↓×●★│├└\u00a0"),
    (500, "⇒√≈≤≥°○■□☆┌┐┘"),
    (300, "≠±∈▶┬┴┼"),
    (200, "÷∑∞"),
    (100, "\u200d\u200b"),
)
_PUNCTUATION_PRIOR = {char: prior for prior, chars in _PRIOR_GROUPS for char in chars}
_EMOJI_PRIOR = 3_000.0
_COMMON_EMOJI = frozenset(
    "✅❌⭐⚠💡📌📝📚📖🎯🚀🔥💪👉👍🔍🔑🧠📊📈📉🛠⚙🔧🤖✨❓❗⏰🎉🌟📎🗂📁📂🏆💻🧪🔬📐🧮✔✖➡⬆⬇🔗"
    "🆕💬🤔😊🙂👀🔴🟢🟡🔵⚡🌐🧩📦🗺🔒🔓📋📅⏳🎓🏷🔄🔎🧭💼🐍"
)
# Code point ranges that a damaged character of a note is almost never: CJK extensions, historic
# scripts, mathematical alphanumerics, game tiles, alchemical and legacy computing symbols.
_RARE_RANGES = (
    (0x3400, 0x4DBF),
    (0x10000, 0x1D3FF),
    (0x1D400, 0x1D7FF),
    (0x1E000, 0x1EFFF),
    (0x1F000, 0x1F0FF),
    (0x1F700, 0x1F7FF),
    (0x1FB00, 0x1FBFF),
    (0x20000, 0x3FFFF),
)


def char_prior(char: str) -> float:
    """A frequency-like prior for one character that jieba's dictionary does not count."""
    if char in _PUNCTUATION_PRIOR:
        return _PUNCTUATION_PRIOR[char]
    if char in _COMMON_EMOJI:
        return _EMOJI_PRIOR
    point = ord(char)
    if any(low <= point <= high for low, high in _RARE_RANGES):
        return 0.01
    if 0x4E00 <= point <= 0x9FFF:
        return 1.0
    if 0x1F300 <= point <= 0x1FAFF:
        return 5.0
    return 0.5


def token_of(char: str) -> str:
    """The model token of one character: itself, or the class of an ASCII letter, digit or space."""
    if char.isascii():
        if char.isalpha() or char == "_":
            return LETTERS
        if char.isdigit():
            return DIGITS
    if char.isspace():
        return SPACE
    return char


def line_tokens(line: str) -> str:
    """A line as model tokens (one character each), runs of letters, digits or spaces collapsed."""
    out: list[str] = []
    for char in line:
        token = token_of(char)
        if token in RUN_TOKENS and out and out[-1] == token:
            continue
        out.append(token)
    return "".join(out)


def count_trigrams(sequences: Iterable[str]) -> Counter[str]:
    """Trigram counts of token sequences, each padded with two BOS tokens and one EOS token."""
    counts: Counter[str] = Counter()
    for sequence in sequences:
        tokens = BOS + BOS + sequence + EOS
        counts.update(tokens[i - 2 : i + 1] for i in range(2, len(tokens)))
    return counts


def count_dictionary_bigrams(freq: Mapping[str, int]) -> Counter[str]:
    """Character bigrams inside dictionary words, each counted with the word's frequency."""
    counts: Counter[str] = Counter()
    for word, count in freq.items():
        if count > 0:
            for i in range(1, len(word)):
                counts[word[i - 1 : i + 1]] += count
    return counts


class TrigramModel:
    """Interpolated Kneser-Ney trigrams over one-character tokens, optionally mixed with bigram weights.

    Args:
        trigrams: token trigram counts (3-character keys).
        prior: probability-like weight of a token in general text (what unseen tokens get).
        bigrams: optional extra bigram weights (e.g. inside dictionary words), mixed in with `bigram_weight`.
        bigram_weight: share of the extra bigram distribution wherever it knows the context.
        discount: the absolute discount of every order.
    """

    def __init__(
        self,
        trigrams: Mapping[str, int],
        prior: Callable[[str], float],
        bigrams: Mapping[str, float] | None = None,
        bigram_weight: float = 0.0,
        discount: float = 0.75,
    ):
        self.prior, self.discount = prior, discount
        self.tri = dict(trigrams)
        self.ctx2, self.types2 = _context_totals(self.tri)
        self.bi = dict(Counter(key[1:] for key in self.tri))  # continuation counts
        self.ctx1, self.types1 = _context_totals(self.bi)
        self.uni = dict(Counter(key[1] for key in self.bi))
        self.uni_total = sum(self.uni.values()) or 1
        self.extra = dict(bigrams or {})
        self.extra_ctx = _context_totals(self.extra)[0] if bigram_weight else {}
        self.extra_weight = bigram_weight
        self._cache: dict[str, float] = {}
        self._lower: dict[str, float] = {}

    def _unigram(self, token: str) -> float:
        d, total = self.discount, self.uni_total
        return max(self.uni.get(token, 0) - d, 0) / total + d * len(self.uni) / total * self.prior(token)

    def _bigram(self, key: str) -> float:
        cached = self._lower.get(key)
        if cached is not None:
            return cached
        p = self._unigram(key[1])
        ctx = self.ctx1.get(key[0])
        if ctx:
            d = self.discount
            p = (max(self.bi.get(key, 0) - d, 0) + d * self.types1[key[0]] * p) / ctx
        self._lower[key] = p
        return p

    def logp(self, key: str) -> float:
        """log P(key[2] | key[0] key[1]) for a 3-token key."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        p = self._bigram(key[1:])
        ctx = self.ctx2.get(key[:2])
        if ctx:
            d = self.discount
            p = (max(self.tri.get(key, 0) - d, 0) + d * self.types2[key[:2]] * p) / ctx
        extra_ctx = self.extra_ctx.get(key[1])
        if extra_ctx:
            w = self.extra_weight
            p = (1 - w) * p + w * self.extra.get(key[1:], 0.0) / extra_ctx
        value = math.log(p) if p > 0 else -50.0
        self._cache[key] = value
        return value


def _context_totals(counts: Mapping[str, float]) -> tuple[dict[str, float], dict[str, int]]:
    """Per context (all but the last token): the total count and the number of distinct next tokens."""
    totals: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for key, count in counts.items():
        totals[key[:-1]] += count
        types[key[:-1]] += 1
    return dict(totals), dict(types)


def save_counts(path: Path, counts: Mapping[str, Mapping[str, float]], source: str) -> None:
    """Write named count tables as gzipped JSON, sorted and without a timestamp (reproducible bytes)."""
    payload = {"format": FORMAT, "source": source}
    payload.update({name: dict(sorted(table.items())) for name, table in counts.items()})
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode("utf-8")
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(data)


@lru_cache(maxsize=1)
def load_counts() -> dict[str, dict[str, float]]:
    """The shipped count tables (package data `ingest/decode/data/zh_char_lm.json.gz`; JSON, no pickle)."""
    raw = resources.files("ingest.decode").joinpath("data", DATA_FILE).read_bytes()
    payload = json.loads(gzip.decompress(raw))
    if payload.get("format") != FORMAT:
        raise ValueError(f"{DATA_FILE}: unknown format {payload.get('format')!r}; rebuild it")
    return {name: table for name, table in payload.items() if isinstance(table, dict)}


def build_counts(texts: Iterable[str], freq: Mapping[str, int]) -> dict[str, Counter[str]]:
    """The model's count tables: `char_trigrams` of the clean texts' lines, `dictionary_bigrams` of jieba's words.

    Args:
        texts: clean Chinese notes.
        freq: jieba's dictionary counts.
    """
    lines = (line for text in texts for line in text.split("\n"))
    return {
        "char_trigrams": count_trigrams(line_tokens(line) for line in lines),
        "dictionary_bigrams": count_dictionary_bigrams(freq),
    }

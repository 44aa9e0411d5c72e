"""Character trigram model (Kneser-Ney, from clean notes) mixed with jieba's in-word character bigrams."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources

BOS, EOS = "\x02", "\x03"
# Runs of ASCII letters, digits and spaces each read as one token: the model is about Chinese characters.
LETTERS, DIGITS, SPACE = "a", "0", " "
_RUN_TOKENS = frozenset((LETTERS, DIGITS, SPACE))
DATA_FILE = "zh_char_lm.json.gz"
FORMAT = "studygraph-char-trigram/1"


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
        if token in _RUN_TOKENS and out and out[-1] == token:
            continue
        out.append(token)
    return "".join(out)


def count_trigrams(lines: Iterable[str]) -> Counter[str]:
    """Token trigram counts of clean lines, each padded with two BOS tokens and one EOS token."""
    counts: Counter[str] = Counter()
    for line in lines:
        tokens = BOS + BOS + line_tokens(line) + EOS
        counts.update(tokens[i - 2 : i + 1] for i in range(2, len(tokens)))
    return counts


def count_dictionary_bigrams(freq: Mapping[str, int], power: float = 1.0) -> Counter[str]:
    """Character bigrams inside dictionary words, each weighted by the word's frequency to `power`."""
    counts: Counter[str] = Counter()
    for word, count in freq.items():
        if count <= 0 or len(word) < 2:
            continue
        weight = count**power
        for i in range(1, len(word)):
            counts[word[i - 1 : i + 1]] += weight
    return counts


class CharTrigramModel:
    """Interpolated Kneser-Ney token trigrams, backed off to a general character prior.

    Args:
        trigrams: token trigram counts (3-character keys).
        prior: probability-like weight of a token in general Chinese text (for unseen tokens).
        dictionary: optional character bigram weights from dictionary words, mixed in with `dict_weight`.
        discount: the absolute discount of every order.
    """

    def __init__(
        self,
        trigrams: Mapping[str, int],
        prior: Callable[[str], float],
        dictionary: Mapping[str, float] | None = None,
        dict_weight: float = 0.2,
        discount: float = 0.75,
    ):
        self.prior, self.discount = prior, discount
        self.tri = dict(trigrams)
        self.ctx2: Counter[str] = Counter()
        self.types2: Counter[str] = Counter()
        continuation: Counter[str] = Counter()
        for key, count in self.tri.items():
            self.ctx2[key[:2]] += count
            self.types2[key[:2]] += 1
            continuation[key[1:]] += 1
        self.bi = dict(continuation)
        self.ctx1: Counter[str] = Counter()
        self.types1: Counter[str] = Counter()
        unigram: Counter[str] = Counter()
        for key, count in self.bi.items():
            self.ctx1[key[0]] += count
            self.types1[key[0]] += 1
            unigram[key[1]] += 1
        self.uni = dict(unigram)
        self.uni_total = sum(unigram.values()) or 1
        self.dict_bi = dict(dictionary or {})
        self.dict_ctx: Counter[str] = Counter()
        for key, weight in self.dict_bi.items():
            self.dict_ctx[key[0]] += weight
        self.dict_weight = dict_weight
        self._cache: dict[str, float] = {}

    def _unigram(self, token: str) -> float:
        d, total = self.discount, self.uni_total
        return max(self.uni.get(token, 0) - d, 0) / total + d * len(self.uni) / total * self.prior(token)

    def _bigram(self, key: str) -> float:
        lower = self._unigram(key[1])
        ctx = self.ctx1.get(key[0])
        if not ctx:
            return lower
        d = self.discount
        return (max(self.bi.get(key, 0) - d, 0) + d * self.types1[key[0]] * lower) / ctx

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
        dict_ctx = self.dict_ctx.get(key[1])
        if dict_ctx and self.dict_weight:
            w = self.dict_weight
            p = (1 - w) * p + w * self.dict_bi.get(key[1:], 0.0) / dict_ctx
        value = math.log(p) if p > 0 else -50.0
        self._cache[key] = value
        return value


def save_counts(path, trigrams: Mapping[str, int], dictionary: Mapping[str, float], source: str) -> None:
    """Write the model's counts as gzipped JSON (sorted, so the file is reproducible)."""
    payload = {
        "format": FORMAT,
        "source": source,
        "trigrams": dict(sorted(trigrams.items())),
        "dictionary_bigrams": {k: round(v, 3) for k, v in sorted(dictionary.items())},
    }
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with gzip.GzipFile(filename="", mode="wb", fileobj=open(path, "wb"), mtime=0) as out:
        out.write(data)


@lru_cache(maxsize=1)
def load_counts() -> tuple[dict[str, int], dict[str, float]]:
    """The shipped trigram counts and dictionary bigram weights (package data, no pickle)."""
    raw = resources.files("ingest").joinpath("data", DATA_FILE).read_bytes()
    payload = json.loads(gzip.decompress(raw))
    if payload.get("format") != FORMAT:
        raise ValueError(f"{DATA_FILE}: unknown format {payload.get('format')!r}")
    return payload["trigrams"], payload["dictionary_bigrams"]

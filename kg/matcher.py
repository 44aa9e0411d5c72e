"""Find concept names in free text: longest match first, word boundaries for Latin, jieba-aware for Chinese."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from kg.names import is_abbreviation, normalize_name
from studygraph.text import has_cjk, is_cjk

log = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")
_LATIN_EDGE = re.compile(r"[a-z0-9]")
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9]+|[&+]")
_JOINER = re.compile(r"[ \t\-_]{0,2}")
_SHORT_CJK = 3  # pure-Chinese names this short must sit on jieba word boundaries
_jieba_lock = threading.Lock()


@dataclass(frozen=True)
class Match:
    """A name found in a text: character span in the folded text, the concept id and the name as matched."""

    start: int
    end: int
    concept_id: str
    surface: str


def fold(text: str) -> str:
    """The form names are compared in: NFKC, lower case, whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


@lru_cache(maxsize=1)
def jieba_tokenizer():  # noqa: ANN201 - a private jieba.Tokenizer (the global one belongs to lexical search)
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


class TermMatcher:
    """Longest-first matching of many names at once.

    Args:
        names: name as written -> concept id. Names shorter than two characters, and single words listed in
            `ignore`, are not matched. Abbreviations ("PCA", "mAP") match case-sensitively.
        ignore: normalized single words never to match (common words that say nothing about a concept).
    """

    def __init__(self, names: Mapping[str, str], ignore: Iterable[str] = ()):
        ignored = set(ignore)
        self._cjk: dict[str, str] = {}
        self._latin: dict[str, tuple[str, str, bool]] = {}  # joined lower tokens -> (concept, name, exact case)
        self._first: dict[str, int] = {}  # first lower token of a name -> most tokens of a name starting with it
        for name, concept_id in names.items():
            key = normalize_name(name)
            if len(key) < 2 or key in ignored:
                continue
            if has_cjk(name):
                for variant in {fold(name), fold(name).replace(" ", "")}:
                    self._cjk.setdefault(variant, concept_id)
            else:
                tokens = _LATIN_TOKEN.findall(unicodedata.normalize("NFKC", name))
                if tokens:
                    self._latin.setdefault("".join(tokens).lower(), (concept_id, name, is_abbreviation(name)))
                    first = tokens[0].lower()
                    self._first[first] = max(self._first.get(first, 0), len(tokens))
        self._lengths = sorted({len(k) for k in self._cjk}, reverse=True)
        self._max_tokens = min(8, max((len(_LATIN_TOKEN.findall(n)) for _, n, _ in self._latin.values()), default=1))
        self._short_words = [k for k in self._cjk if len(k) <= 8 and not _LATIN_EDGE.search(k)]
        self._tokenizer = None

    def _latin_lookup(self, tokens: list[re.Match[str]], i: int, n: int) -> tuple[str, str, bool] | None:
        joined = "".join(t.group(0) for t in tokens[i:i + n])
        lower = joined.lower()
        for key, cut in ((lower, 0), (lower[:-1], 1), (lower[:-2], 2)):
            if cut and not (lower.endswith("s") and len(key) >= 2 and (cut == 1 or lower.endswith("es"))):
                continue
            hit = self._latin.get(key)
            if hit is None:
                continue
            concept_id, name, exact = hit
            written = "".join(_LATIN_TOKEN.findall(unicodedata.normalize("NFKC", name)))
            if exact and joined[: len(joined) - cut] != written:
                continue
            return hit
        return None

    def _latin_matches(self, text: str) -> list[Match]:
        """Runs of Latin tokens joined by spaces, hyphens or underscores, looked up longest first (only from
        tokens that can start a name: a text of thousands of tokens costs a few lookups per token)."""
        tokens = list(_LATIN_TOKEN.finditer(text))
        joined_ok = [bool(_JOINER.fullmatch(text[tokens[k].end():tokens[k + 1].start()]))
                     for k in range(len(tokens) - 1)]
        found = []
        for i, token in enumerate(tokens):
            lower = token.group(0).lower()
            longest = self._first.get(lower, 0)
            if not longest and (lower[:-1] in self._first or lower[:-2] in self._first):
                longest = 1  # a plural of a one-word name ("CNNs", "networks")
            if not longest:
                continue
            reach = 1
            while reach < min(longest, self._max_tokens, len(tokens) - i) and joined_ok[i + reach - 1]:
                reach += 1
            for n in range(reach, 0, -1):
                hit = self._latin_lookup(tokens, i, n)
                if hit is not None:
                    found.append(Match(tokens[i].start(), tokens[i + n - 1].end(), hit[0], hit[1]))
                    break
        return found

    def _boundaries(self, text: str) -> set[int]:
        if self._tokenizer is None:
            with _jieba_lock:
                self._tokenizer = jieba_tokenizer()
                for word in self._short_words:
                    self._tokenizer.add_word(word)
        cuts, pos = {0}, 0
        for token in self._tokenizer.cut(text, HMM=False):
            pos += len(token)
            cuts.add(pos)
        return cuts

    def _cjk_matches(self, text: str) -> list[Match]:
        found: list[Match] = []
        boundaries: set[int] | None = None
        for i in range(len(text)):
            for length in self._lengths:
                piece = text[i:i + length]
                concept_id = self._cjk.get(piece)
                if concept_id is None or len(piece) < length:
                    continue
                if piece[0].isascii() and i > 0 and _LATIN_EDGE.match(text[i - 1]):
                    continue
                end = i + length
                if piece[-1].isascii() and end < len(text) and _LATIN_EDGE.match(text[end]):
                    continue
                if length <= _SHORT_CJK and is_cjk(piece[0]):
                    boundaries = boundaries if boundaries is not None else self._boundaries(text)
                    if i not in boundaries or end not in boundaries:
                        continue
                found.append(Match(i, end, concept_id, piece))
                break
        return found

    def find(self, text: str) -> list[Match]:
        """Non-overlapping matches (spans in the NFKC text), longest first, returned in text order."""
        exact = unicodedata.normalize("NFKC", text)
        folded = exact.lower()
        if len(folded) != len(exact):  # rare letters whose lower case is longer: match abbreviations loosely
            exact = folded
        candidates = self._cjk_matches(folded) if self._cjk and has_cjk(folded) else []
        candidates += self._latin_matches(exact) if self._latin else []
        chosen: list[Match] = []
        taken = [False] * (len(folded) + 1)
        for match in sorted(candidates, key=lambda m: (-(m.end - m.start), m.start)):
            if not any(taken[match.start:match.end]):
                chosen.append(match)
                for k in range(match.start, match.end):
                    taken[k] = True
        return sorted(chosen, key=lambda m: m.start)

    def concepts_in(self, text: str) -> list[str]:
        """Ids of the concepts named in the text, in order of first appearance."""
        return list(dict.fromkeys(m.concept_id for m in self.find(text)))

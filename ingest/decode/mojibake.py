"""Mojibake repair: ordinary mojibake via ftfy, and lossy cp1252/cp1254 mojibake restored byte by byte."""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

logger = logging.getLogger(__name__)

# Bytes a UTF-8 text loses when it is decoded with a code page that leaves them undefined (or, for the
# soft hyphen 0xAD, when the invisible character is dropped). All are UTF-8 continuation bytes.
LOST_BYTES: dict[str, bytes] = {
    "cp1254": bytes([0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E, 0xAD]),
    "cp1252": bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0xAD]),
}


@dataclass
class _Parse:
    """A text re-encoded to its code-page bytes and cut into slots (one tuple of options per character)."""

    codepage: str
    slots: list[tuple[str, ...]] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)

    def looks_lossy(self) -> bool:
        """Whether the text reads as UTF-8 seen through the code page, with continuation bytes lost."""
        complete, truncated = self.stats["complete"], self.stats["truncated"]
        sequences = complete + truncated
        return (
            truncated > 0
            and complete >= max(3, truncated)
            and self.stats["stray"] <= 0.02 * sequences
            and self.stats["foreign"] <= complete
        )


@lru_cache(maxsize=4)
def _code_page_table(codepage: str) -> dict[str, int]:
    """Character -> byte for a code page; undefined bytes map from their C1 control (sloppy decoders)."""
    table: dict[str, int] = {}
    for byte in range(256):
        try:
            table[bytes([byte]).decode(codepage)] = byte
        except UnicodeDecodeError:
            table[chr(byte)] = byte
    return table


@lru_cache(maxsize=1)
def _sequence_start() -> re.Pattern[str]:
    """A character one of the code pages reads as a UTF-8 lead byte (0xC2..0xF4), followed by one that either
    reads as a continuation byte (0x80..0xBF): where a parse can find a complete sequence."""

    def chars(low: int, high: int) -> str:
        found = {c for codepage in LOST_BYTES for c, byte in _code_page_table(codepage).items() if low <= byte <= high}
        return "".join(re.escape(c) for c in sorted(found))

    return re.compile(f"[{chars(0xC2, 0xF4)}](?=[{chars(0x80, 0xBF)}])")


def _cannot_look_lossy(text: str) -> bool:
    """Whether a text is sure to fail `_Parse.looks_lossy` in both code pages, found without parsing it.

    Looking lossy needs three complete sequences, and each starts where `_sequence_start` matches: a text with
    fewer such places (every clean Chinese or English note of the corpora) is returned unchanged unparsed.
    """
    return sum(1 for _ in itertools.islice(_sequence_start().finditer(text), 3)) < 3


def _sequence_length(lead: int) -> int:
    """Bytes in a UTF-8 sequence that starts with `lead` (a byte in 0xC2..0xF4)."""
    return 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


@lru_cache(maxsize=65536)
def _candidates(observed: bytes, length: int, lost: bytes) -> tuple[str, ...]:
    """Characters whose UTF-8 bytes are `observed` with continuation bytes from `lost` put back in.

    Args:
        observed: the lead byte and the continuation bytes that survived, in order.
        length: the full sequence length the lead byte announces.
        lost: the bytes that may have been dropped.

    Returns:
        Valid, assigned characters, in byte order; empty when none fits.
    """
    lead, kept = observed[0], observed[1:]
    missing = length - len(observed)
    found: list[str] = []
    for positions in itertools.combinations(range(length - 1), missing):
        for fill in itertools.product(lost, repeat=missing):
            fills, keeps = iter(fill), iter(kept)
            tail = bytes(next(fills) if k in positions else next(keeps) for k in range(length - 1))
            try:
                char = (bytes([lead]) + tail).decode("utf-8")
            except UnicodeDecodeError:
                continue
            if unicodedata.category(char) not in ("Cn", "Cc", "Cs", "Co"):
                found.append(char)
    return tuple(sorted(set(found), key=lambda c: c.encode()))


class _Parser:
    """Reads text character by character as code-page bytes and groups them into UTF-8 sequences."""

    def __init__(self, codepage: str):
        self.table = _code_page_table(codepage)
        self.lost = LOST_BYTES[codepage]
        self.result = _Parse(codepage)
        self._open: list[tuple[int, str]] = []

    def feed(self, char: str) -> None:
        byte = self.table.get(char)
        if byte is None or byte < 0x80:
            self._close()
            self.result.slots.append((char,))
            self.result.stats["foreign" if byte is None else "ascii"] += 1
        elif 0xC2 <= byte <= 0xF4:
            self._close()
            self._open = [(byte, char)]
        elif byte <= 0xBF and self._open and len(self._open) < _sequence_length(self._open[0][0]):
            self._open.append((byte, char))
            if len(self._open) == _sequence_length(self._open[0][0]):
                self._close()
        else:
            self._close()
            self._keep(char)

    def _keep(self, chars: str) -> None:
        self.result.slots.extend((c,) for c in chars)
        self.result.stats["stray"] += len(chars)

    def _close(self) -> None:
        if not self._open:
            return
        observed = bytes(b for b, _ in self._open)
        source = "".join(c for _, c in self._open)
        self._open = []
        length = _sequence_length(observed[0])
        if len(observed) == length:
            try:
                self.result.slots.append((observed.decode("utf-8"),))
                self.result.stats["complete"] += 1
            except UnicodeDecodeError:
                self._keep(source)
            return
        options = _candidates(observed, length, self.lost)
        if options:
            self.result.slots.append(options)
            self.result.stats["truncated"] += 1
        else:
            self._keep(source)

    def finish(self) -> _Parse:
        self._close()
        return self.result


def _parse(text: str, codepage: str) -> _Parse:
    parser = _Parser(codepage)
    for char in text:
        parser.feed(char)
    return parser.finish()


def _restore(parse: _Parse) -> str:
    """Join the slots, choosing the most probable character for each damaged one (models load lazily)."""
    from ingest.decode.restore import restore_lines, shipped_decoder

    lines: list[list[tuple[str, ...]]] = [[]]
    for slot in parse.slots:
        if slot == ("\n",):
            lines.append([])
        else:
            lines[-1].append(slot)
    return "\n".join(restore_lines(lines, shipped_decoder()))


def restore_lossy_mojibake(text: str) -> tuple[str, str | None]:
    """Undo UTF-8 that was decoded as cp1254/cp1252 and saved again, losing the undefined bytes.

    Re-encodes the text to the code page's bytes, finds UTF-8 sequences that lost continuation bytes and
    puts back the bytes that give the most probable Chinese text: jieba's word frequencies times a
    character trigram model of clean notes (`ingest/decode/data`), then adjusted by the document's own evidence
    (see `ingest.decode.restore`). The models load only here. Text that does not look like such
    mojibake is returned unchanged.

    Args:
        text: decoded text, newlines already normalized to "\\n".

    Returns:
        The restored text and a human-readable repair note, or the text unchanged and None.
    """
    if text.isascii() or _cannot_look_lossy(text):
        return text, None
    parses = [_parse(text, codepage) for codepage in LOST_BYTES]
    lossy = [p for p in parses if p.looks_lossy()]
    if not lossy:
        return text, None
    parse = max(lossy, key=lambda p: p.stats["complete"] + p.stats["truncated"] - p.stats["foreign"])
    restored = _restore(parse)
    damaged = parse.stats["truncated"]
    logger.info("lossy %s mojibake: %d damaged characters restored", parse.codepage, damaged)
    plural = "" if damaged == 1 else "s"
    return restored, f"lossy {parse.codepage} mojibake restored: {damaged} character{plural}"


def fix_ordinary_mojibake(text: str) -> tuple[str, int]:
    """Fix mojibake that lost nothing (e.g. UTF-8 read as cp1252) with ftfy, line by line.

    Only ftfy's encoding steps run: quotes, character widths and normalization of clean text are kept.

    Returns:
        The text and the number of lines changed.
    """
    import ftfy

    lines = text.split("\n")
    changed = 0
    for index, line in enumerate(lines):
        if line.isascii():
            continue
        fixed = ftfy.fix_encoding(line)
        if fixed != line and "\n" not in fixed and "\r" not in fixed:
            lines[index] = fixed
            changed += 1
    return "\n".join(lines), changed


def repair_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Apply lossy mojibake restoration, then ordinary mojibake fixing; clean text comes back unchanged.

    Returns:
        The repaired text and the repairs made (empty when the text was clean).
    """
    repairs: list[str] = []
    text, note = restore_lossy_mojibake(text)
    if note:
        repairs.append(note)
    text, lines = fix_ordinary_mojibake(text)
    if lines:
        repairs.append(f"mojibake fixed by ftfy: {lines} line{'s' if lines != 1 else ''}")
    return text, tuple(repairs)

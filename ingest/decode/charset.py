"""Bytes of a note in, text out: encoding detection, binary rejection and mojibake repair, reported."""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from dataclasses import dataclass

from ingest.decode.mojibake import repair_text
from studygraph.errors import InputError

logger = logging.getLogger(__name__)

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or docx/xlsx/pptx)"),
    (b"\x7fELF", "an executable"),
    (b"\x1f\x8b", "gzip data"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A few stray bytes in UTF-8 text are damage, not a sign of a legacy encoding.
_STRAY_BYTES = 3
_STRAY_SHARE = 0.01
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1b")
# The control characters (category Cc, which Unicode's stability policy fixes as U+0000-U+001F and U+007F-U+009F)
# other than the allowed ones: one regex scan of a note instead of a category lookup per character.
_CONTROL = re.compile("[" + "".join(re.escape(chr(code)) for code in (*range(0x20), *range(0x7F, 0xA0))
                                    if chr(code) not in _ALLOWED_CONTROLS) + "]")


@dataclass(frozen=True)
class Decoded:
    """A note's text and how it was obtained.

    Attributes:
        text: the (repaired) text, newlines normalized to "\\n", same number of lines as the file.
        encoding: the encoding the bytes were read with, e.g. "utf-8", "utf-8-sig", "utf-16", "gb18030".
        repairs: human-readable notes on what was repaired; empty when the file was clean.
    """

    text: str
    encoding: str
    repairs: tuple[str, ...] = ()


class DecodeError(InputError):
    """The bytes are not a text note (binary data, NUL bytes) or cannot be decoded."""


def decode_note(data: bytes, repair: bool = True) -> Decoded:
    """Decode a note's bytes, detecting its encoding and repairing mojibake.

    Args:
        data: the file's bytes.
        repair: also fix ordinary and lossy mojibake (clean text is never changed).

    Returns:
        The decoded text, the encoding used and the repairs made. A 0-byte file gives empty text.

    Raises:
        DecodeError: binary data, NUL bytes, or bytes that no supported encoding reads.
    """
    if not data:
        return Decoded("", "utf-8", ())
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise DecodeError(f"binary data: the file is {kind}, not a text note; leave it out of the notes")
    text, encoding, repairs = _decode_bytes(data)
    _reject_control_characters(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if repair:
        text, fixes = repair_text(text)
        repairs += fixes
    for note in repairs:
        logger.info("repaired: %s", note)
    return Decoded(text, encoding, tuple(repairs))


def _decode_bytes(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_with_replacement(data, encoding)
    if b"\x00" in data:
        raise DecodeError(
            "binary data: the file contains NUL bytes (binary, or UTF-16/32 without a byte-order mark); "
            "save it as UTF-8"
        )
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(data):
        return _decode_with_replacement(data, "utf-8")
    return _decode_legacy(data)


def _decode_with_replacement(data: bytes, encoding: str) -> tuple[str, str, tuple[str, ...]]:
    try:
        return data.decode(encoding), encoding, ()
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        bad = _invalid_byte_count(data, encoding, limit=len(data))
        name = encoding.upper().replace("-SIG", "")
        return text, encoding, (f"invalid {name} replaced with U+FFFD: {bad} bytes",)


def _invalid_byte_count(data: bytes, encoding: str, limit: int) -> int:
    """Bytes that `encoding` cannot read, counting up to about `limit` of them."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    bad, start = 0, 0
    while start < len(data) and bad <= limit:
        try:
            decoder.decode(data[start:], final=True)
            break
        except UnicodeDecodeError as error:
            bad += error.end - error.start
            start += error.end
            decoder.reset()
    return bad


def _mostly_utf8(data: bytes) -> bool:
    """Whether invalid bytes are a few strays in UTF-8 text rather than a legacy encoding's text."""
    high = sum(1 for byte in data if byte >= 0x80)
    limit = max(_STRAY_BYTES, int(_STRAY_SHARE * high))
    bad = _invalid_byte_count(data, "utf-8", limit)
    if bad > limit:
        return False
    return bad <= _STRAY_SHARE * high or high - bad >= 2 * bad or bad == 1


def _decode_legacy(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """Read a legacy-encoded note: GB18030/GBK or Big5, else charset-normalizer's best guess."""
    import charset_normalizer

    candidates: dict[str, str] = {}
    for encoding in ("gb18030", "big5"):
        try:
            candidates[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        name = "gb18030" if best.encoding in ("gb2312", "gbk", "gb18030") else best.encoding
        candidates.setdefault(name, str(best))
    if not candidates:
        raise DecodeError(
            "undecodable: not UTF-8, UTF-16, GB18030 or Big5 text (binary data?); save it as UTF-8"
        )
    encoding = max(candidates, key=lambda name: _plausibility(candidates[name]))
    logger.debug("legacy encoding candidates %s; chose %s", sorted(candidates), encoding)
    return candidates[encoding], encoding, ()


def _plausibility(text: str) -> float:
    """Share of non-ASCII characters that are common Chinese characters or punctuation."""
    wide = [char for char in text if ord(char) >= 0x80]
    if not wide:
        return 1.0
    return sum(_common_char(char) for char in wide) / len(wide)


def _common_char(char: str) -> bool:
    """A frequently used hanzi (GB2312 level 1 or Big5 level 1) or CJK / general punctuation."""
    if unicodedata.category(char)[0] in "PZ" or "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef":
        return True
    for encoding, low, high in (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6)):
        try:
            lead = char.encode(encoding)[0]
        except UnicodeEncodeError:
            continue
        if low <= lead <= high:
            return True
    return False


def _reject_control_characters(text: str) -> None:
    """Text with many control characters is binary data that happened to decode."""
    if "\x00" in text:  # the UTF-8 path refuses NUL bytes; UTF-16/32 text must not bring NULs in either
        raise DecodeError("binary data: the text contains NUL characters; save it as UTF-8 without them")
    controls = len(_CONTROL.findall(text))
    if controls > max(2, len(text) // 100):
        raise DecodeError(
            f"binary data: {controls} control characters in {len(text)} characters; leave it out of the notes"
        )

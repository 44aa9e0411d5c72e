"""decode_note: encodings in, binary data out, invalid bytes reported, 0-byte files empty."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPORA, CORPUS_NOTES
from ingest.decode.charset import Decoded, DecodeError, decode_note
from studygraph.errors import InputError

TEXT = "注意力机制 attention"
PARAGRAPH = (
    "# 注意力机制\n\n自注意力（self-attention）是 Transformer 的核心，用于建模序列中任意两个位置的关系。\n"
)


TRADITIONAL = "深度學習與注意力機制，自注意力是核心。"


@pytest.mark.parametrize(
    ("text", "data", "encoding"),
    [
        (TEXT, TEXT.encode("utf-8"), "utf-8"),
        (TEXT, TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (TEXT, TEXT.encode("utf-16"), "utf-16"),
        (TEXT, b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT, b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16"),
        (TEXT, TEXT.encode("gb18030"), "gb18030"),
        (TEXT, TEXT.encode("big5"), "big5"),
        (PARAGRAPH, PARAGRAPH.encode("gbk"), "gb18030"),
        (TRADITIONAL, TRADITIONAL.encode("big5"), "big5"),
    ],
)
def test_supported_encodings_decode_to_the_same_text(text: str, data: bytes, encoding: str) -> None:
    decoded = decode_note(data)
    assert decoded.encoding == encoding
    assert decoded.text == text
    assert decoded.repairs == ()


def test_gb18030_short_text_is_not_mistaken_for_korean() -> None:
    # charset-normalizer alone guesses cp949 for this string
    assert decode_note(TEXT.encode("gb18030")).text == TEXT


def test_empty_file_is_empty_text_not_an_error() -> None:
    assert decode_note(b"") == Decoded("", "utf-8", ())


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_newlines_are_normalized_and_line_count_kept(newline: str) -> None:
    lines = ["# 标题", "", "第一行", "second line", ""]
    decoded = decode_note(newline.join(lines).encode("utf-8"))
    assert decoded.text == "\n".join(lines)
    assert decoded.text.count("\n") == len(lines) - 1


def test_invalid_byte_in_utf8_is_replaced_and_reported() -> None:
    data = "第一段中文内容。".encode() + b"\xff" + " 第二段 more text。".encode()
    decoded = decode_note(data)
    assert decoded.encoding == "utf-8"
    assert decoded.text == "第一段中文内容。\ufffd 第二段 more text。"
    assert len(decoded.repairs) == 1 and "1 bytes" in decoded.repairs[0]


def test_one_bad_byte_in_ascii_text_does_not_switch_codec() -> None:
    decoded = decode_note(b"# Notes\n\nsome text \xfe more text\n")
    assert decoded.encoding == "utf-8"
    assert decoded.text == "# Notes\n\nsome text \ufffd more text\n"
    assert decoded.repairs


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("正文\x00还有".encode(), "NUL bytes"),
        (TEXT.encode("utf-16-le"), "NUL bytes"),
    ],
)
def test_binary_data_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as caught:
        decode_note(data)
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_rejected(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.randrange(1, 256) for _ in range(4096))  # no NUL: exercises the decoding path
    with pytest.raises(DecodeError):
        decode_note(data)


@pytest.mark.parametrize("path", sorted(CORPORA.rglob("*.md")), ids=lambda p: p.name)
def test_corpus_files_pass_through_unchanged(path) -> None:
    data = path.read_bytes()
    decoded = decode_note(data)
    assert decoded.repairs == ()
    assert decoded.text == data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


# A phrase of the licence text each vendored corpus's SOURCE.txt must reproduce in full (MIT, BSD-3-Clause and
# Apache-2.0 all require the licence to travel with the files; see tests/data/README.md).
LICENCE_TEXT = {
    "ailearning-notes-zh": "Permission is hereby granted, free of charge",
    "cs231n-notes-en": "Permission is hereby granted, free of charge",
    "obsidian-thesis-en": "Redistribution and use in source and binary forms",
    "paddle-dl-zh": "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
}


def test_every_vendored_corpus_is_complete_and_keeps_its_licence() -> None:
    """The parametrized test above covers every vendored note, and each corpus carries its origin and licence."""
    found = {d.name: len(list(d.glob("*.md"))) for d in CORPORA.iterdir() if d.is_dir()}
    assert found == CORPUS_NOTES
    assert len(list(CORPORA.rglob("*.md"))) == sum(CORPUS_NOTES.values())
    assert LICENCE_TEXT.keys() == CORPUS_NOTES.keys()
    for name, licence in LICENCE_TEXT.items():
        source = (CORPORA / name / "SOURCE.txt").read_text(encoding="utf-8")
        assert "Repository :" in source and licence in source, name


def _without_sequence_starts(text: str) -> str:
    from ingest.decode.mojibake import _sequence_start

    return _sequence_start().sub("", text)


# Characters a code page reads as lead bytes (Ã, ä, ğ, ş), as continuation bytes (â€, ™, ¡), as undefined ones
# (U+0081, U+008D), ASCII and Chinese: the parse's every path.
_CODE_PAGE_TEXT = st.text(st.sampled_from([*"Ã¤Ä°ÅŸÄŸäöüçğşİı", *"€™¡¢£©®°±²³µ·¹º¼½¾¿‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜š›œžŸ",
                                           "\u0081", "\u008d", "\u008f", "\u0090", "\u009d", *"ab \n", *"注意力机制"]),
                          max_size=80)


@settings(max_examples=300, deadline=None)
@given(text=_CODE_PAGE_TEXT)
def test_text_skipped_unparsed_could_never_look_lossy(text: str) -> None:
    """`restore_lossy_mojibake` skips parsing a text with fewer than three places where a UTF-8 sequence could
    be complete: the parse would count fewer than three complete sequences (too few to look lossy)."""
    from ingest.decode.mojibake import LOST_BYTES, _cannot_look_lossy, _parse, restore_lossy_mojibake

    for sample in (text, _without_sequence_starts(text), "\u00c3\u00a4" * 2 + text):
        if _cannot_look_lossy(sample):
            parses = [_parse(sample, codepage) for codepage in LOST_BYTES]
            assert all(p.stats["complete"] < 3 and not p.looks_lossy() for p in parses)
            assert restore_lossy_mojibake(sample) == (sample, None)


def test_control_characters_are_the_unicode_cc_category_less_the_allowed_ones() -> None:
    import unicodedata

    from ingest.decode.charset import _ALLOWED_CONTROLS, _CONTROL

    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    expected = [c for c in every if unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS]
    assert _CONTROL.findall(every) == expected and len(expected) == 59
    with pytest.raises(DecodeError, match="control characters"):
        decode_note(("text\x07\x08" * 20).encode())
    assert decode_note(b"a\tb\x1b[0m\x0c\n").text == "a\tb\x1b[0m\x0c\n"

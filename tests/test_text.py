"""The shared text primitives: one CJK class, one language decision, one share measure for every package."""

from __future__ import annotations

import pytest

from studygraph.text import (
    CJK,
    cjk_bigrams,
    cjk_count,
    cjk_share,
    estimate_tokens,
    has_cjk,
    is_cjk,
    language_of,
    text_language,
)


@pytest.mark.parametrize("char", ["注", "㐀", "䶵", "龥", "﨑"])  # main block, Extension A, compatibility ideographs
def test_cjk_class_covers_every_block_notes_use(char: str) -> None:
    assert is_cjk(char) and has_cjk(f"x{char}y") and CJK.search(char)


@pytest.mark.parametrize("char", ["A", "1", "，", "。", "（", "ア", "한", "😀", "\u3000"])
def test_punctuation_kana_hangul_and_emoji_are_not_cjk_ideographs(char: str) -> None:
    assert not is_cjk(char)


@pytest.mark.parametrize(("question", "language"), [
    ("LoRA 的 low-rank adaptation 原理", "zh"),  # English names inside a Chinese question
    ("LoRA 为什么能减少训练参数？", "zh"),
    ("What is 注意力机制 used for?", "en"),  # a Chinese term inside an English question
    ("How does positional encoding work?", "en"),
    ("BERT 和 GPT 的区别", "zh"),
    ("", "en"),
])
def test_language_of_mixed_questions(question: str, language: str) -> None:
    assert language_of(question) == language


def test_every_package_agrees_on_the_mixed_question() -> None:
    """The question the issue names: the answer language, the relevance branch and the chunk label agree."""
    import assistant.prompts as prompts
    import assistant.relevance as relevance
    from assistant.relevance import judge_relevance  # noqa: F401 - the module imports language_of from here

    question = "LoRA 的 low-rank adaptation 原理"
    assert relevance.language_of is language_of and prompts.language_of is language_of
    assert language_of(question) == "zh"
    # four Latin words against three characters: a passage like this is bilingual, not English
    assert text_language(question) == "mixed"


def test_cjk_share_counts_a_character_like_a_word() -> None:
    assert cjk_share("怎么用少量参数") == 1.0
    assert cjk_share("how to fine tune") == 0.0
    assert cjk_share("LoRA是什么") == pytest.approx(3 / 4)
    assert cjk_share("") == 0.0
    assert cjk_share("[1] [2]") == 0.0  # citation markers are not words


@pytest.mark.parametrize(("text", "label"), [
    ("Gradient descent updates the parameters.", "en"),
    ("Transformer 基于注意力机制（Attention Mechanism），完全抛弃了循环结构。", "zh"),
    ("Adam optimizer keeps running averages 一阶矩 and 二阶矩", "mixed"),
    ("```\n1 + 2\n```", "en"),
])
def test_text_language_of_passages(text: str, label: str) -> None:
    assert text_language(text) == label


def test_estimate_tokens_is_generous_for_both_scripts() -> None:
    assert estimate_tokens("注意力机制") >= 5
    assert estimate_tokens("attention is all you need") >= 5
    assert estimate_tokens("注意力 attention") > estimate_tokens("注意力")
    assert cjk_count("注意力 attention 机制") == 5


def test_cjk_bigrams() -> None:
    assert cjk_bigrams("注意力 和 x") == {"注意", "意力", "和"}

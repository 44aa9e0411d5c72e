from __future__ import annotations

import pytest

from retrieval.tokenize import split_identifier, tokenize


def test_dotted_code_path_is_split_into_its_parts() -> None:
    assert tokenize("np.linalg.eig(A)")[:3] == ["np", "linalg", "eig"]


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("train_test_split", ["train_test_split", "train", "test", "split"]),
        ("LayerNorm", ["layernorm", "layer", "norm"]),
        ("CosineAnnealingWarmRestarts", ["cosineannealingwarmrestarts", "cosine", "annealing", "warm", "restarts"]),
        ("LoRA", ["lora"]),  # short camel pieces (Lo, RA) are noise, the name stays whole
        ("np", ["np"]),
    ],
)
def test_identifiers_are_split_and_kept_whole(identifier: str, expected: list[str]) -> None:
    assert split_identifier(identifier) == expected


def test_english_is_lowercased_without_stopwords_and_plurals_folded() -> None:
    assert tokenize("Why do Transformers need the positional information") == [
        "transformer", "need", "positional", "information"]


def test_numbers_are_kept() -> None:
    tokens = tokenize("dropout p=0.5, 3.14 and 7B models")
    assert {"0.5", "3.14", "7b"} <= set(tokens)


def test_chinese_uses_jieba_search_mode_words_and_subwords() -> None:
    tokens = tokenize("卷积神经网络")
    assert {"卷积", "神经网络", "神经", "网络"} <= set(tokens)


def test_chinese_stopwords_and_question_words_are_dropped() -> None:
    tokens = tokenize("怎么用少量参数微调大模型")
    assert "怎么" not in tokens and "用" not in tokens
    assert {"参数", "微调", "模型"} <= set(tokens)


def test_character_bigrams_recover_words_segmentation_misses() -> None:
    # jieba reads 带动量 as 带动 + 量; the bigram keeps 动量 (momentum) findable.
    assert "动量" in tokenize("带动量的优化方法")


def test_mixed_text_keeps_both_languages_in_order() -> None:
    tokens = tokenize("Transformer架构：双向Transformer编码器")
    assert tokens[0] == "transformer" and "架构" in tokens and tokens.count("transformer") == 2


def test_full_width_forms_match_half_width() -> None:
    assert tokenize("ＡＤＡＭ优化器")[:1] == tokenize("Adam优化器")[:1] == ["adam"]


def test_empty_and_punctuation_only_text_give_no_tokens() -> None:
    assert tokenize("") == [] and tokenize("，。！？ ... ---") == []


@pytest.mark.parametrize("written", ["1x1卷积", "1×1 卷积", "1*1 卷积", r"$1\times{1}$ 卷积", "1 x 1 卷积"])
def test_sizes_written_any_way_give_one_token(written: str) -> None:
    assert tokenize(written) == ["1x1", "卷积"]

"""Names: normalization, the shipped glossary, resolution of typed names, and concepts named in free text."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from conftest import FIXTURE_NOTES
from graph_records import folder_records
from ingest.graph.build import build_graph
from kg.glossary import SHIPPED_GLOSSARY, load_glossary
from kg.matcher import TermMatcher
from kg.names import clean_display, normalize_name, split_alias
from kg.resolve import ConceptResolver
from studygraph.errors import ConfigError
from studygraph.settings import GraphSettings


@pytest.mark.parametrize(("written", "same_as"), [
    ("1.1 线性代数", "线性代数"),
    ("一、数学基础", "数学基础"),
    ("（二）概率论", "概率论"),
    ("第三章 深度学习", "深度学习"),
    ("📚 目录", "目录"),
    ("ＰＣＡ", "pca"),
    ("  Attention   Mechanism ", "attention mechanism"),
    ("**Self-Attention**：", "self attention"),
    ("5.2 Transformer架构", "transformer 架构"),
])
def test_normalize_name_ignores_width_case_numbering_emoji_punctuation(written, same_as):
    assert normalize_name(written) == normalize_name(same_as)


def test_normalize_name_keeps_what_distinguishes_names():
    assert normalize_name("3D理解") == "3d理解"  # a digit that is part of the name is no numbering
    assert normalize_name("GPT-4") != normalize_name("GPT")
    assert normalize_name("C++") != normalize_name("C")
    assert clean_display("1.1 线性代数：") == "线性代数"


def test_split_alias_tells_aliases_from_examples():
    assert split_alias("主成分分析（PCA）").aliases == ("PCA",)
    assert split_alias("梯度提升（XGBoost/LightGBM）").examples == ("XGBoost", "LightGBM")
    parts = split_alias("Convolutional Neural Networks (CNNs / ConvNets)")
    assert parts.name == "Convolutional Neural Networks" and "CNNs" in parts.aliases


def test_shipped_glossary_is_large_consistent_and_right():
    glossary = load_glossary()
    assert len(glossary) >= 300
    assert not glossary.conflicts, glossary.conflicts[:5]  # no name belongs to two entries
    dag = nx.DiGraph((p, e.key) for e in glossary for p in e.prerequisites)
    assert nx.is_directed_acyclic_graph(dag)
    for en, zh in [("attention mechanism", "注意力机制"), ("PCA", "主成分分析"), ("CNN", "卷积神经网络"),
                   ("GAN", "生成对抗网络"), ("RNN", "循环神经网络"), ("VAE", "变分自编码器"),
                   ("knowledge distillation", "知识蒸馏"), ("reinforcement learning", "强化学习")]:
        assert glossary.lookup(en) is glossary.lookup(zh) is not None, en
    for abbreviation, en in [("LoRA", "Low-Rank Adaptation"), ("RLHF", "reinforcement learning from human feedback"),
                             ("PPO", "Proximal Policy Optimization"), ("SVD", "singular value decomposition")]:
        assert glossary.lookup(abbreviation) is glossary.lookup(en) is not None, abbreviation
    assert glossary.lookup("attention mechanism").key in glossary.prerequisites(glossary.lookup("Transformer").key)
    assert SHIPPED_GLOSSARY.is_file()


def test_a_users_glossary_extends_the_shipped_one(tmp_path: Path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("entries:\n  - {en: attention mechanism, aliases: [注意力模块]}\n"
                     "  - {en: mixture of experts, zh: 混合专家模型, aliases: [MoE], prerequisites: [Transformer]}\n",
                     encoding="utf-8")
    glossary = load_glossary(extra)
    assert glossary.lookup("注意力模块") is glossary.lookup("注意力机制")
    moe = glossary.lookup("MoE")
    assert moe.zh == "混合专家模型" and moe.prerequisites == (glossary.lookup("Transformer").key,)


@pytest.mark.parametrize("text", ["entries: [", "entries: 3", "entries:\n  - {name: x}\n", "entries:\n  - {}\n"])
def test_a_malformed_glossary_is_one_clear_error(tmp_path: Path, text: str):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_glossary(bad)
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_glossary(tmp_path / "missing.yaml")


@pytest.fixture(scope="module")
def resolver():
    glossary = load_glossary()
    sections, chunks = folder_records(FIXTURE_NOTES)
    graph = build_graph(sections, chunks, None, glossary, GraphSettings())
    return ConceptResolver(graph, glossary)


def _name(resolver, concept_id):
    return resolver.graph.concept(concept_id).name if concept_id else None


@pytest.mark.parametrize(("query", "name", "how"), [
    ("注意力机制", "注意力机制", "exact"),
    ("  lora ", "LoRA", "normalized"),
    ("3.1 Transformer", "Transformer", "normalized"),
    ("PCA", "主成分分析", "alias"),
    ("Attention Mechanism", "注意力机制", "alias"),
    ("principal component analysis", "主成分分析", "alias"),
    ("卷积网络", "卷积神经网络", "alias"),
    ("注意力模型", "注意力机制", "alias"),
    ("Transformer架构", "Transformer", "alias"),
    ("transfomer", "Transformer", "fuzzy"),
    ("注意机制", "注意力机制", "fuzzy"),
])
def test_resolve_finds_one_concept_and_says_how(resolver, query, name, how):
    found = resolver.resolve(query)
    assert (_name(resolver, found.concept_id), found.how) == (name, how)


def test_resolve_crosses_languages_through_the_glossary(resolver):
    found = resolver.resolve("自注意力的多头注意力")  # not a name at all
    assert found.concept_id is None
    found = resolver.resolve("bidirectional encoder representations from transformers")
    assert _name(resolver, found.concept_id) == "BERT"
    found = resolver.resolve("gradient descent algorithm".replace(" algorithm", "算法"))
    assert _name(resolver, found.concept_id) == "Gradient descent" and found.how == "glossary"


def test_unknown_names_get_suggestions_never_a_guess(resolver):
    found = resolver.resolve("RLHF")  # known to the glossary, absent from these notes
    assert found.concept_id is None and found.how == "none"
    found = resolver.resolve("Transformer 的各种变体与改进")
    assert found.concept_id is None and found.suggestions[0] == "Transformer"
    assert resolver.resolve("").concept_id is None
    assert resolver.resolve("qq").concept_id is None


def test_find_in_text_longest_first_in_either_language(resolver):
    names = lambda text: [_name(resolver, c) for c in resolver.find_in_text(text)]  # noqa: E731
    assert names("我想学LoRA，应该先学什么") == ["LoRA"]
    assert names("how does the attention mechanism work") == ["注意力机制"]
    assert names("卷积神经网络和注意力机制有什么区别") == ["卷积神经网络", "注意力机制"]
    assert names("PCA 和主成分分析") == ["主成分分析"]
    assert names("a b c d e") == [] and names("") == []


def test_matcher_respects_word_boundaries_and_case_of_abbreviations():
    matcher = TermMatcher({"GAN": "gan", "LoRA": "lora", "集合": "set", "self-attention": "sa", "注意力": "att"})
    assert matcher.concepts_in("organ donors") == []
    assert matcher.concepts_in("two GANs") == ["gan"]
    assert matcher.concepts_in("gan") == []  # abbreviations keep their case
    assert matcher.concepts_in("Self Attention") == ["sa"]
    assert matcher.concepts_in("有序可修改集合") == ["set"]


def test_picker_labels_carry_every_language_so_typing_an_alias_finds_the_concept(resolver):
    from kg.resolve import picker_label, search_concepts

    graph = resolver.graph
    pca = resolver.resolve("PCA").concept_id
    label = picker_label(graph.concept(pca))
    assert label.startswith(graph.concept(pca).name) and "PCA" in label
    # A picker filters options by their label: every name a person may type in is in one label.
    for typed in ("PCA", "主成分分析", "Attention Mechanism", "卷积神经网络"):
        wanted = resolver.resolve(typed).concept_id
        assert typed.casefold() in picker_label(graph.concept(wanted)).casefold() or \
            search_concepts(resolver, typed)[0] == wanted, typed
    assert search_concepts(resolver, "我想学LoRA")[0] == resolver.resolve("LoRA").concept_id
    assert search_concepts(resolver, "   ") == []


def test_vocabulary_in_finds_glossary_concepts_the_notes_lack_with_all_their_names(resolver):
    found = dict(resolver.vocabulary_in("EM算法的E步和M步分别做什么？LoRA 呢"))
    assert "EM算法" in found and "EM algorithm" in found["EM算法"] and "期望最大化算法" in found["EM算法"]
    assert "低秩适配" in found["LoRA"]
    assert resolver.vocabulary_in("如何做红烧肉") == []

"""Which written phrases can name a concept: list labels, generic headings, stop words and the shape test."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from kg.names import clean_display, is_abbreviation, normalize_name, split_alias
from kg.vocabulary import LIST_KINDS, Vocabulary, alternation, load_vocabulary
from studygraph.text import cjk_count, has_cjk

LabelKind = Literal["concepts", "applications", "properties", "examples"]


class _Active:
    """The vocabulary in force, compiled for matching (`use_vocabulary` switches it)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.list_labels: dict[LabelKind, frozenset[str]] = {
            kind: vocabulary.keys("label_" + kind) for kind in LIST_KINDS  # type: ignore[misc]
        }
        self.model_headers = vocabulary.keys("model_headers")
        self.skip_headings = vocabulary.keys("skip_headings")
        # A heading that holds a skip word ("学习资源推荐", "Additional resources") is skipped too (Chinese entries
        # anywhere in it, English ones as whole words of a heading of up to four words).
        self.skip_within = re.compile(
            "|".join([re.escape(w) for w in vocabulary.words("skip_headings") if not w.isascii()]
                     + [rf"^(?:\S+\s+){{0,3}}?{re.escape(w)}(?:\s+\S+){{0,3}}$"
                        for w in vocabulary.words("skip_headings") if w.isascii() and len(w) > 3]) or "(?!)",
            re.IGNORECASE)
        self.generic_headings = vocabulary.keys("generic_headings")
        self.curriculum_heading = vocabulary.substring_pattern("curriculum_headings")
        self.title_words = vocabulary.substring_pattern("title_words")
        self.leading_words = vocabulary.leading_pattern()
        self.stop_terms = vocabulary.keys("stop_names")
        self.backward_cues = vocabulary.substring_pattern("backward_cues")
        self.application_cues = vocabulary.substring_pattern("application_cues")
        self.example_item = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:" + alternation(vocabulary.words("label_examples"))
                                       + r")\.?\s*[:：]?\s*", re.IGNORECASE)
        self.prerequisite_cues = {kind: re.compile(alternation(words), re.IGNORECASE)
                                  for kind, words in vocabulary.groups("prerequisite_cues").items() if words}
        self.forward_cues = vocabulary.substring_pattern("forward_cues")
        self.adjective_endings = tuple(w.lower() for w in vocabulary.words("adjective_endings"))
        self.function_words = frozenset(w.lower() for w in vocabulary.words("function_words"))


_active = _Active(load_vocabulary())


def use_vocabulary(extra: Path | None) -> None:
    """Read notes with the shipped vocabulary extended by `extra` (settings: graph.vocabulary)."""
    global _active
    if extra != getattr(_active, "extra", None):
        _active = _Active(load_vocabulary(extra))
        _active.extra = extra  # type: ignore[attr-defined]


def active() -> _Active:
    return _active


# Figure, table and equation references ("如图 3", "Fig. 2", "Table 1", "Eq. 4"), citations ("Goodfellow et al")
# and numbered labels ("Strategy #2") are never names.
_REFERENCE = re.compile(r"\bet al\.?$|#\s*\d+$|^@\w|\d{6,}|^(?:图\s*\d|表\s*\d|fig(?:ure)?\.?\s*\d|table\s*\d|eq\.?\s*\d|公式\s*\d)", re.IGNORECASE)
_FORBIDDEN = re.compile(r"[。！？!?；;，,：:=$\\^{}<>|\"“”]|https?:|www\.|\.(md|py|png|jpg|html)\b|\.\.\.")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9'\-+.&]*")


# A Chinese word this frequent in jieba's general dictionary (about 60 M words of general text) is common
# language ("考虑", "目标", "不同"), not a term. Chosen on the tuning halves of ailearning-notes-zh and paddle-dl-zh:
# at 1000, the headings and bold leads it drops were common words; technical words sit below 700 (概率 589,
# 梯度 276, 卷积 12), while 3000 kept "连接", "引入" and "整合".
COMMON_WORD_FREQUENCY = 1000


def plain_language(name: str) -> bool:
    """A name that is plain language rather than a term: a common Chinese word, a Chinese clause, or a single
    English adjective ("Categorical", "Continuous": endings in data/vocabulary.yaml `adjective_endings`)."""
    name = clean_display(name)
    if has_cjk(name):
        tokenizer = _pos_tokenizer().tokenizer
        described = any(w in name for w in _active.function_words if not w.isascii())  # "拟合的平面"
        return described or tokenizer.FREQ.get(name, 0) >= COMMON_WORD_FREQUENCY or cjk_clause(name)
    words = name.split()
    return (len(words) == 1 and name[:1].isalpha() and not is_abbreviation(name)
            and name.lower().endswith(_active.adjective_endings))


# Parts of speech (jieba's tag set) that make a Chinese phrase a clause rather than a name: a conjunction or
# preposition to start it ("对于每个样本", "而对于..."), or a one-character adverb ("再简化后", "不需要..."), a pronoun or an adverb of two characters inside it ("他俩没关系",
# "参数难以选择"), a particle, adjective, adverb or numeral to end it ("穿长裤的", "AI发展快", "一般取得小一些").
# jieba tags technical words loosely ("学习率": 学习/v 率/v), so verbs decide nothing.
_CLAUSE_START = ("c", "p")
_CLAUSE_END = ("a", "ad", "d", "y", "ul", "uj", "ud", "uz", "m", "t")


@lru_cache(maxsize=4096)
def cjk_clause(text: str) -> bool:
    """A Chinese phrase that is a clause, not a name (jieba parts of speech): "最终得到结果", "他俩没关系",
    "穿长裤的", "一般取得小一些", "AI发展快"; "梯度下降", "目标检测" and "持续学习" are names."""
    tags = [(w, f) for w, f in _pos_tokenizer().cut(clean_display(text)) if w.strip()]
    if len(tags) < 2:
        return False
    first, tag = tags[0]
    if ((tag in _CLAUSE_START and len(first) >= 2) or (tag in ("c", "d") and len(first) == 1)
            or tags[-1][1] in _CLAUSE_END):
        return True
    if any(f == "m" and len(w) >= 2 and has_cjk(w) for w, f in tags):
        return True  # "集成学习两个主要类别": a count inside describes
    return any(f in ("r", "d") and len(w) >= 2 for w, f in tags[1:]) or (tags[0][1] == "r" and len(tags[0][0]) >= 2)


@lru_cache(maxsize=1)
def _pos_tokenizer():  # noqa: ANN202 - jieba.posseg over the graph's private tokenizer
    """`POSTokenizer(jieba_tokenizer())`, without reading jieba's dictionary file a second time: importing
    jieba.posseg builds the parts-of-speech table of that same default dictionary for its global tagger, and a
    copy of it (tens of ms) stands in for the 0.35 s re-read (nothing adds tagged words to the global one)."""
    from jieba import posseg

    from kg.matcher import jieba_tokenizer

    tagger = object.__new__(posseg.POSTokenizer)
    tagger.tokenizer = jieba_tokenizer()
    tagger.word_tag_tab = dict(posseg.dt.word_tag_tab)
    return tagger


def looks_like_title(name: str) -> bool:
    """A title about something rather than its name: it starts or ends with a structural heading word
    ("Overview Transformer", "Notes on TabTransformer", "KMEANS算法概述" aside), or joins three or more English
    words with function words ("Selection of Supervised Approaches", "Fine-tuning the ConvNet")."""
    words = clean_display(name).split()
    if len(words) >= 2 and (normalize_name(words[0]) in _active.generic_headings
                            or normalize_name(words[-1]) in _active.generic_headings
                            or _active.title_words.search(words[0]) or _active.title_words.search(words[-1])):
        return True
    return len(words) >= 3 and any(w.lower() in _active.function_words for w in words[1:])


def label_kind(text: str) -> LabelKind | None:
    """The kind of list a bold label introduces ("**应用**：" -> "applications"), or None for a term."""
    key = normalize_name(text)
    for kind, keys in _active.list_labels.items():
        if key in keys:
            return kind
    return None


def heading_role(heading: str, level: int, is_title: bool) -> Literal["concept", "transparent", "skip", "curriculum"]:
    """What a heading is for concepts: one itself, transparent (generic, or a title), skipped, or a curriculum."""
    key = normalize_name(heading)
    if key in _active.skip_headings or _active.skip_within.search(clean_display(heading)):
        return "skip"
    if _active.curriculum_heading.search(clean_display(heading)):
        return "curriculum"
    if is_title or not key or key in _active.generic_headings or not looks_like_concept(heading, strict=False):
        return "transparent"
    return "concept"


def looks_like_concept(text: str, strict: bool = True) -> bool:
    """Whether a phrase has the shape of a concept name: short, a noun phrase, no sentence, no formula.

    Args:
        text: the phrase as written (markup allowed).
        strict: stricter for list items and bold phrases than for headings (no "X的Y" descriptions, fewer words).
    """
    name = split_alias(clean_display(text)).name
    key = normalize_name(name)
    if len(key) < 2 or key in _active.stop_terms or key.isdigit() or _FORBIDDEN.search(name):
        return False
    if label_kind(name) is not None or _active.leading_words.match(name + " ") or _REFERENCE.search(name):
        return False
    cjk = cjk_count(name)
    words = _WORDS.findall(name)
    if cjk > (12 if strict else 16) or len(words) > (5 if strict else 7) or len(name) > 60:
        return False
    if strict and cjk > 6 and "的" in name:
        return False
    if strict and re.search(r"(?:^|\s)(the|a|an) ", name, re.IGNORECASE):
        return False
    if not cjk and not words:
        return False
    if not cjk and len(key) < 2:
        return False
    return not (cjk == 0 and len(words) == 1 and len(key) == 1)

"""Concept names: normalization for matching, cleaning for display, and `name（alias）` splitting."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from studygraph.text import has_cjk

# Numbering in front of headings and items: "1.1 ", "1. ", "3) ", "一、", "（一）", "第三章 ", "Chapter 2: ".
_NUMBERING = re.compile(
    r"""^\s*(?:
        \d+(?:\.\d+)+\.?\s*                                  # 1.1  1.2.3
      | \d+\s*[.、)）:：]\s*(?!\d)                           # 1.  1、 1)
      | \d+\s+(?=[^\W\d_])                                  # "1 Intro"
      | [一二三四五六七八九十百零〇]+\s*[、.．:：]\s*          # 一、 十一、
      | [（(]\s*[一二三四五六七八九十百零〇\d]+\s*[)）]\s*     # （一） (2)
      | 第\s*[一二三四五六七八九十百零〇\d]+\s*[章节部分课讲篇]\s*[:：、.]?\s*
      | (?:chapter|part|lecture|section|step|lesson|module)\s+[\divxlc]+\s*[:.：、-]?\s+
      | [IVX]+\s*[.、)]\s+
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_MARKUP = re.compile(r"(\*\*|__|`|~~|<[^>]{1,80}>)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_WIKILINK = re.compile(r"!?\[\[(?:[^\]|]*\|)?([^\]|]*)\]\]")  # [[target|alias]] shows the alias, [[target]] the target
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s:：,，;；。.!！?？、\-—–]+$")
_LEADING = re.compile(r"^[\s:：,，;；。.!！?？、\-—–*#>|]+")
# A trailing parenthetical: "主成分分析（PCA）", "Convolutional Neural Networks (CNNs / ConvNets)".
_PAREN = re.compile(r"^(?P<name>.+?)\s*[（(](?P<inner>[^（）()]{1,80})[)）]\s*$")
_LIST_SEPARATORS = re.compile(r"\s*(?:[、,，/;；|]|\bor\b|\band\b|或)\s*")
_KEEP_SYMBOLS = frozenset("+#")


def _is_emoji(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat in ("So", "Cs", "Co") or ch in "\u200d\ufe0f\ufe0e\u20e3" or 0x1F000 <= ord(ch) <= 0x1FAFF


def strip_emoji(text: str) -> str:
    """Remove emoji, pictographs and their joiners/variation selectors."""
    if text.isascii():  # no ASCII character is an emoji, a joiner or a selector
        return text
    return "".join(ch for ch in text if not _is_emoji(ch))


def strip_numbering(text: str) -> str:
    """Remove heading/list numbering in front of a name ("1.1 线性代数" -> "线性代数", "一、数学基础" -> "数学基础")."""
    previous = None
    while previous != text:
        previous = text
        stripped = _NUMBERING.sub("", text, count=1)
        text = stripped if stripped.strip() else text
    return text


@lru_cache(maxsize=1 << 16)  # pure; the graph build cleans the same headings and terms many times
def clean_display(text: str) -> str:
    """A name as shown to people: markup, links, emoji, numbering and trailing punctuation removed, spaces collapsed."""
    text = _WIKILINK.sub(lambda m: m.group(1).split("#")[0] or m.group(1), text)
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub("", text)
    text = strip_emoji(text)
    text = _SPACES.sub(" ", text).strip()
    text = strip_numbering(text)
    text = _LEADING.sub("", text)
    text = _TRAILING.sub("", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)  # a pure function called for the same glossary and graph names again and again
def normalize_name(text: str) -> str:
    """The matching key of a name: NFKC (full/half width), case folded, no numbering, emoji, punctuation or spaces.

    Args:
        text: a name as written ("1.1 主成分分析（PCA）", "  Attention   Mechanism ").

    Returns:
        A key equal for spellings that differ only in width, case, punctuation, numbering and spacing.
    """
    text = clean_display(unicodedata.normalize("NFKC", text))
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in _KEEP_SYMBOLS or not (cat[0] in "PZC" or cat in ("Sk", "Sm", "So")):
            kept.append(ch)
    return "".join(kept)


def singular_key(key: str) -> str:
    """An English plural key reduced to its singular ("cnns" -> "cnn", "convnets" -> "convnet"); others unchanged."""
    if len(key) < 4 or not key.isascii() or not key[-1] == "s" or key.endswith(("ss", "us", "is")):
        return key
    if key.endswith("ies") and len(key) > 5:
        return key[:-3] + "y"
    return key[:-1]


def is_abbreviation(text: str) -> bool:
    """Short upper-case Latin tokens such as "PCA", "CNNs", "GPT-4", "t-SNE" (kept case-sensitive when matching)."""
    core = text.strip()
    if not core or has_cjk(core) or " " in core or len(core) > 8:
        return False
    letters = [c for c in core if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return len(letters) >= 2 and upper >= max(2, len(letters) - 2)


def acronym_of(short: str, long: str) -> bool:
    """Whether `short` ("CNNs", "MLP") abbreviates the words of `long` ("Convolutional Neural Networks")."""
    letters = "".join(c for c in short if c.isalpha()).lower()
    if letters.endswith("s") and len(letters) > 2:
        letters_options = (letters, letters[:-1])
    else:
        letters_options = (letters,)
    words = [w for w in re.split(r"[\s\-_/]+", long) if w and w[0].isalpha()]
    initials = "".join(w[0].lower() for w in words)
    parts = "".join(
        "".join(c for c in w if c.isupper()).lower() or w[0].lower() for w in words
    )
    return len(letters) >= 2 and any(opt in (initials, parts) for opt in letters_options)


@dataclass(frozen=True)
class SplitName:
    """A written name split into its main form, aliases given in parentheses, and examples listed there."""

    name: str
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


def split_alias(text: str, same_concept: Callable[[str, str], bool] | None = None,
                known: Callable[[str], bool] | None = None) -> SplitName:
    """Split "主成分分析（PCA）" into name and alias, and "梯度提升（XGBoost/LightGBM）" into name and examples.

    One parenthesised term is an alias, unless `known` says both names are distinct known concepts
    ("药物发现（AlphaFold）"). Several terms are aliases when they abbreviate the name (acronym) or when
    `same_concept` says so (glossary), and examples otherwise.

    Args:
        text: a cleaned display name.
        same_concept: optional predicate telling whether two names denote the same concept.
        known: optional predicate telling whether a name is a known concept name (a glossary entry).
    """
    match = _PAREN.match(text)
    if not match:
        return SplitName(clean_display(text))
    name, inner = clean_display(match.group("name")), match.group("inner").strip()
    if not name or not clean_display(inner):
        return SplitName(clean_display(text))
    parts = [clean_display(p) for p in _LIST_SEPARATORS.split(inner) if clean_display(p)]
    same = same_concept or (lambda a, b: False)
    if len(parts) <= 1:
        inner = clean_display(inner)
        distinct = known is not None and known(name) and known(inner) and not same(name, inner)
        return SplitName(name, examples=(inner,)) if distinct else SplitName(name, (inner,))
    aliases, examples = [], []
    for part in parts:
        (aliases if acronym_of(part, name) or same(name, part) else examples).append(part)
    return SplitName(name, tuple(aliases), tuple(examples))


_SLASH = re.compile(r"\s*/\s*")


def split_slash(text: str) -> list[str]:
    """ "t-SNE/UMAP" -> ["t-SNE", "UMAP"]; a name without a top-level slash comes back alone."""
    if "/" not in text or "(" in text or "（" in text:
        return [text]
    parts = [p for p in _SLASH.split(text) if p]
    if len(parts) < 2 or any(len(normalize_name(p)) < 2 for p in parts):
        return [text]
    return parts


def _stop_names() -> frozenset[str]:
    from kg.vocabulary import load_vocabulary  # the vocabulary normalizes with this module's normalize_name

    return load_vocabulary().keys("stop_names")


# Words that never name a concept on their own (data/vocabulary.yaml, `stop_names`).
STOP_NAMES = _stop_names()

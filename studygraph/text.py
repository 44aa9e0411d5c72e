"""The text primitives every package shares: the CJK character class, the language of a text, token estimates.

One definition of each, so that ingest, the graph, search and the assistant agree on what a Chinese character
is and what language a mixed question such as "LoRA 的 low-rank adaptation 原理" is in.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

# CJK Unified Ideographs, Extension A and the compatibility ideographs (the blocks notes are written in; the
# supplementary-plane extensions are rare enough in notes that a BMP-only class keeps regexes simple and fast).
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{CJK_CHARS}]")
CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")
_MARKER = re.compile(r"\[\s*\d{1,3}\s*\]")
# Markdown lines every reader of notes must agree on: a code fence opening or closing (group 1: the fence), and the
# separator row under a table's header.
FENCE_LINE = re.compile(r"^\s*(```+|~~~+)")
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")

# English function words: two or more of them, as many as a third of the CJK characters, make a text English
# even when it names Chinese terms ("What is 注意力机制 used for?").
_EN_FUNCTION_WORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into is are was were be been do does did have has
    had it its this that these those what which who how why when where can could should would will not no than""".split()
)

Language = Literal["zh", "en"]
ChunkLanguage = Literal["zh", "en", "mixed"]
# Thresholds of `text_language` on `cjk_share`: a passage is "zh" when CJK characters are at least 60 % of its
# CJK characters plus Latin words, "en" at 15 % or less; in between it is "mixed" (bilingual notes).
ZH_SHARE = 0.6
EN_SHARE = 0.15


def is_cjk(char: str) -> bool:
    """Whether one character is a CJK ideograph."""
    return bool(CJK.fullmatch(char))


def has_cjk(text: str) -> bool:
    """Whether the text holds at least one CJK ideograph."""
    return bool(CJK.search(text))


def cjk_count(text: str) -> int:
    """How many CJK ideographs the text holds."""
    return len(CJK.findall(text))


def cjk_share(text: str) -> float:
    """CJK characters / (CJK characters + Latin words); 0.0 for text with neither.

    A Chinese character and an English word carry about the same meaning, so this is the share of a text's
    content that is Chinese.
    """
    text = _MARKER.sub(" ", text)
    cjk = cjk_count(text)
    words = len(LATIN_WORD.findall(text))
    return cjk / (cjk + words) if cjk + words else 0.0


def language_of(text: str) -> Language:
    """The language a question or answer is written in: 'zh' when Chinese carries it, else 'en'.

    English names of concepts ("LoRA", "low-rank adaptation") inside a Chinese sentence do not make it English:
    English function words decide, so "LoRA 的 low-rank adaptation 原理" is Chinese and "What is 注意力机制 used
    for?" is English.
    """
    text = _MARKER.sub(" ", text)
    cjk = cjk_count(text)
    if cjk == 0:
        return "en"
    words = [w.lower() for w in LATIN_WORD.findall(text)]
    function_words = sum(1 for w in words if w in _EN_FUNCTION_WORDS)
    if function_words >= 2 and function_words * 3 >= cjk:
        return "en"
    return "zh" if cjk >= 2 or not words else "en"


def text_language(text: str) -> ChunkLanguage:
    """zh, en or mixed for a passage of notes, from `cjk_share` (thresholds `ZH_SHARE`, `EN_SHARE`)."""
    if not has_cjk(text) and not LATIN_WORD.search(text):
        return "en"
    share = cjk_share(text)
    return "zh" if share >= ZH_SHARE else "en" if share <= EN_SHARE else "mixed"


def estimate_tokens(text: str) -> int:
    """A generous token estimate for tokenizers we cannot run: one per CJK character, ~1.3 per other word."""
    cjk = cjk_count(text)
    words = len(CJK.sub(" ", text).split())
    return cjk + int(words * 1.3) + len(text) // 40 + 2


def cjk_bigrams(text: str) -> set[str]:
    """Character bigrams of every CJK run (single characters for runs of one): tokenizer-independent overlap."""
    grams: set[str] = set()
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def jieba_module():  # noqa: ANN201 - the jieba module, imported and initialised once per process
    """jieba with its dictionary loaded and its log quiet: the one Chinese word segmenter every package uses."""
    import jieba

    with _jieba_lock:
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
    return jieba


# jieba's part-of-speech tags for names: people (nr, nrt: transliterated), places (ns), other proper nouns (nz).
NAME_TAGS = ("nr", "nrt", "nz", "ns")


@lru_cache(maxsize=1)
def dictionary_names() -> frozenset[str]:
    """The words jieba's dictionary tags as names (`NAME_TAGS`: 卡尔曼滤波, 蒙特卡洛, 薛定谔).

    The same tags `jieba.posseg` gives a word it knows, without importing it: `jieba.posseg` parses all 349k
    lines of the dictionary on import (0.7 s, a quarter of a cold `ask`). The names are kept in the user's cache
    folder, named by the dictionary file's size and time, and read back in a few milliseconds.
    """
    from studygraph.cache import load_marshal, save_marshal, user_cache_dir

    jieba = jieba_module()
    source = Path(jieba.dt.dictionary or Path(jieba.__file__).parent / "dict.txt")
    try:
        stat = source.stat()
    except OSError:
        return frozenset()
    cache = user_cache_dir() / f"jieba-names-{stat.st_size}-{stat.st_mtime_ns}.marshal"
    kept = load_marshal(cache)
    if isinstance(kept, list):
        return frozenset(kept)
    tags = {}  # word -> tag, a later line overriding an earlier one as in jieba.posseg
    with jieba.dt.get_dict_file() as lines:
        for raw in lines:
            parts = raw.decode("utf-8", "replace").split()
            if len(parts) >= 3:
                tags[parts[0]] = parts[2]
    names = sorted(word for word, tag in tags.items() if tag in NAME_TAGS)
    save_marshal(cache, names)
    return frozenset(names)

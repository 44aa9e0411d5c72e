"""Text helpers the assistant shares: content tokens (jieba + English words), sentences, citation markers.

The language of a text and the CJK class are `studygraph.text`'s."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from studygraph.text import CJK_CHARS, has_cjk, jieba_module

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[\s*(\d{1,3})\s*\]")
_EN_TOKEN = re.compile(r"[a-z][a-z0-9]*|\d+(?:\.\d+)?")
_CAMEL = re.compile(r"(?<=[a-z]{2})(?=[A-Z][a-z]{2})")  # PositionalEncoding -> Positional Encoding; not LoRA

EN_STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from as into about over under is are was were
    be been being am do does did done doing have has had having it its it's this that these those there here what
    which who whom whose when where why how can could should would will shall may might must i me my we our you
    your he she they them their his her not no yes so than too very just also only any some all each more most
    such both either neither between through during before after above below up down out off again further once
    please tell explain describe give show mean means meaning use used using way ways work works learn
    specifically additionally moreover furthermore however therefore thus hence instance words summary overall
    """.split()
)
ZH_STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 就 还 又 而 并 被 把 对 从 向 为 以 于 这 那 这个 那个 这些 那些 之 其 它 他 她
    我 你 我们 你们 他们 什么 怎么 怎样 怎么样 如何 为什么 为何 哪 哪些 哪个 哪里 吗 呢 吧 啊 呀 么 有 没有 没 不
    会 能 可以 应该 需要 要 想 请 一下 一个 一种 一些 些 个 种 中 上 下 里 时 时候 是否 么样 多少 几 做 用 使用
    讲 讲讲 说 说说 写 介绍 解释 简单 一般 主要 通常 意思 作用 区别 关系 方法 东西 问题 笔记 知识
    具体 具体来说 来说 此外 另外 因此 所以 然而 但是 但 同时 也就是说 换句话说 总之 总的来说 例如 比如 而且 并且
    从而 因而 然后 另一方面 其中
    """.split()
)
_PUNCT_TOKEN = re.compile(r"^[\W_]+$")



def split_camel(text: str) -> str:
    """CamelCase identifiers split into words ("PositionalEncoding" -> "Positional Encoding"; "LoRA" stays)."""
    return _CAMEL.sub(" ", text)


@lru_cache(maxsize=8192)
def content_tokens(text: str) -> tuple[str, ...]:
    """Lowercased content words of a text: jieba search-mode words for Chinese, words and numbers for English.

    Stopwords, punctuation and citation markers are dropped; order and repeats are kept.
    """
    text = split_camel(_MARKER.sub(" ", text)).lower()
    tokens: list[str] = []
    for piece in jieba_module().cut_for_search(text):
        piece = piece.strip()
        if not piece or _PUNCT_TOKEN.match(piece):
            continue
        if has_cjk(piece):
            if piece not in ZH_STOPWORDS:
                tokens.append(piece)
            continue
        tokens.extend(t for t in _EN_TOKEN.findall(piece) if t not in EN_STOPWORDS)
    return tuple(tokens)



_SENTENCE_END = re.compile(
    r"(?<=[。！？!?；;])(?:\s*(?:\[\s*\d{1,3}\s*\])+)?"  # CJK or hard terminator, then any trailing markers
    r"|(?<=[.])(?:\s*(?:\[\s*\d{1,3}\s*\])+)?(?=\s+[A-Z" + CJK_CHARS + r"\[(\"'*`-]|\s*$)"  # '.' then a new sentence
    r"|\n+"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text; a citation marker right after a terminator stays with the sentence it follows."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def strip_markers(text: str) -> str:
    """The text without `[n]` citation markers."""
    return re.sub(r"\s+([。，,.!?！？；;])", r"\1", _MARKER.sub("", text)).strip()


def without_markers(text: str, numbers: set[int]) -> str:
    """The text without its `[n]` markers of the given numbers (the others kept where they are)."""
    return re.sub(rf"\s*{_MARKER.pattern}", lambda m: "" if int(m.group(1)) in numbers else m.group(0), text)


def markers_in(text: str) -> list[int]:
    """The numbers of the `[n]` markers in a text, in order."""
    return [int(m) for m in _MARKER.findall(text)]


_CODE_FENCE = re.compile(r"^(```|~~~)([^\n]*)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)


def code_segments(text: str) -> list[tuple[str, str, str]]:
    """An answer cut into prose and fenced code, in order: (kind 'prose' or 'code', text, code language).

    Prose is returned as written (renderers trim it their own way); code without its fences; the language is the
    fence's info string ('' when none). What the terminal and the app both use to render quoted code as code.
    """
    segments: list[tuple[str, str, str]] = []
    pos = 0
    for match in _CODE_FENCE.finditer(text):
        if text[pos : match.start()].strip():
            segments.append(("prose", text[pos : match.start()], ""))
        segments.append(("code", match.group(3).rstrip("\n"), match.group(2).strip()))
        pos = match.end()
    if text[pos:].strip():
        segments.append(("prose", text[pos:], ""))
    return segments

"""`name（alias）` pairs in running text: "使用反向传播（Backpropagation）训练", "Support Vector Machine (SVM)"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from kg.glossary import Glossary
from kg.matcher import jieba_tokenizer
from kg.names import acronym_of, clean_display, normalize_name
from studygraph.text import CJK_CHARS

_CJK_PAIR = re.compile(rf"([{CJK_CHARS}]{{2,16}})\s*[（(]\s*([A-Za-z][A-Za-z0-9 .\-&+']{{0,58}}[A-Za-z0-9+])\s*[)）]")
_EN_PAIR = re.compile(r"((?:[A-Za-z][\w\-]*\s+){0,6}[A-Za-z][\w\-]*)\s*\(\s*([A-Z][A-Za-z0-9\-]{1,9})\s*\)")
_FUNCTION_WORDS = frozenset(
    "使用 采用 利用 通过 基于 称为 叫做 叫 即 是 的 和 与 及 在 对 把 将 用 由 种 一种 这种 个 了 被 包括 例如 如 或 为 其 "
    "以 中 和 并 等 可 可以 会 要 称 又称 也称 简称 学习 引入 提出 采取 进行 一个 这个 该 此".split()
)
_MAX_NAME = 10


def _cjk_name(run: str, alias: str, glossary: Glossary) -> str | None:
    """The name the parenthesis belongs to: a glossary name ending the run, else its last content words."""
    for start in range(max(0, len(run) - _MAX_NAME), len(run) - 1):
        entry = glossary.lookup(run[start:])
        if entry is not None:
            return run[start:]
    entry = glossary.lookup(alias)
    if entry is not None and entry.zh and run.endswith(entry.zh):
        return entry.zh
    words = list(jieba_tokenizer().cut(run, HMM=False))
    name: list[str] = []
    for word in reversed(words):
        if word in _FUNCTION_WORDS or len("".join(name)) + len(word) > _MAX_NAME:
            break
        name.insert(0, word)
    joined = "".join(name)
    return joined if len(joined) >= 2 else None


def _en_name(words: str, alias: str) -> str | None:
    """The words an acronym abbreviates: "Support Vector Machine (SVM)" -> "Support Vector Machine"."""
    parts = words.split()
    for k in range(1, min(len(parts), 7) + 1):
        candidate = " ".join(parts[-k:])
        if acronym_of(alias, candidate):
            return candidate
    return None


def find_pairs(text: str, glossary: Glossary) -> Iterator[tuple[str, str]]:
    """(name, alias) pairs written in a line of text, names cleaned."""
    if "(" not in text and "（" not in text:  # both patterns need a parenthesis (most lines have none)
        return
    plain = re.sub(r"(\*\*|__|`)", "", text)
    for match in _CJK_PAIR.finditer(plain):
        name = _cjk_name(match.group(1), match.group(2), glossary)
        if name:
            yield clean_display(name), clean_display(match.group(2))
    for match in _EN_PAIR.finditer(plain):
        name = _en_name(match.group(1), match.group(2))
        if name and normalize_name(name) != normalize_name(match.group(2)):
            yield clean_display(name), clean_display(match.group(2))

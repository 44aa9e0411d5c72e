"""The words of a claim: its terms, numbers and words, and the spans within which it binds them (clauses, phrases,
segments), matched the same way in a sentence and in its unit. Pure functions; used by assistant/claims.py."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.text import strip_markers
from studygraph.text import CJK, jieba_module

if TYPE_CHECKING:
    from assistant.claims import ClaimLexicon

# a digit run after a Latin or Greek letter or a subscript is an index (β1, $\beta_{1}$, W2), not a quantity
_NUMBER = re.compile(r"(?<![A-Za-z\u0370-\u03ff0-9_.])(?<!_\{)\d+(?:[.,]\d+)*%?")
_ZH_NUMERAL = re.compile(r"(?<!第)([一二两三四五六七八九十百千万]+)(?=[个种类层步次维倍项条点部分阶])")  # 第二个 is no count
_ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_EN_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                    "nine": 9, "ten": 10, "twelve": 12, "hundred": 100, "thousand": 1000}
_LATIN_TERM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")
CLAUSE_BREAK = re.compile(r"\n|[，,；;。!?！？、()（）]|(?<!\d)\.(?!\d)|\b(?:while|whereas|but|and|whereas)\b|而|但|和|与|以及|同时")
_SEGMENT = re.compile(r"\n|[；;。!?！？]|(?<!\d)\.(?!\d)|\b(?:while|whereas|but|however)\b|而|但")
_PHRASE = re.compile(r"\n|[，,；;。!?！？()（）]|(?<!\d)\.(?!\d)|\b(?:while|whereas|but|however)\b|而|但")
SENTENCE_END = re.compile(r"\n|[。!?！？]|(?<!\d)\.(?=\s|$)")
_SUFFIX = re.compile(r"(?<=[a-z]{3})(?:ing|ed|es|e|s)$")


def signed_numbers(text: str) -> list[tuple[int, int, str]]:
    """Where a text states digit numbers, with their sign when one stands before them as a sign, not as a hyphen or
    a minus between operands ("红豆（+1）或者绿豆（-1）": +1 and -1; "ResNet-50": 50), as (start, end, value)."""
    found = []
    for m in _NUMBER.finditer(text):
        start, value = m.start(), m.group(0).replace(",", "")
        if start > 0 and text[start - 1] in "+-" and (start < 2 or not re.match(r"[A-Za-z0-9)\]]", text[start - 2])):
            start, value = start - 1, ("-" + value) if text[start - 1] == "-" else value
        found.append((start, m.end(), value))
    return found


def numbers_in(text: str) -> set[str]:
    """Numbers a text states, normalised ("1,000" -> "1000", "两层" -> "2", "three" -> "3")."""
    found = {m.replace(",", "") for m in _NUMBER.findall(text)}
    for run in _ZH_NUMERAL.findall(text):
        value = _zh_number(run)
        if value is not None:
            found.add(str(value))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _EN_NUMBER_WORDS:
            found.add(str(_EN_NUMBER_WORDS[word]))
    return found


def _zh_number(run: str) -> int | None:
    if run in ("一",):  # "一个/一种" is an article, not a count
        return None
    if len(run) == 1 and run in _ZH_DIGITS:
        return _ZH_DIGITS[run]
    if run == "十":
        return 10
    if len(run) == 2 and run[0] == "十" and run[1] in _ZH_DIGITS:
        return 10 + _ZH_DIGITS[run[1]]
    if len(run) in (2, 3) and run[1] == "十" and run[0] in _ZH_DIGITS:
        return 10 * _ZH_DIGITS[run[0]] + (_ZH_DIGITS.get(run[2], 0) if len(run) == 3 else 0)
    return None


def words_of(text: str) -> list[str]:
    """Lowercased words of a text, jieba for Chinese (precise mode), as the word lists are matched on."""
    out: list[str] = []
    for piece in jieba_module().cut(text.lower()):
        piece = piece.strip()
        if piece:
            out.extend(_LATIN_TERM.findall(piece) if not CJK.search(piece) else [piece])
    return out


def clauses(text: str) -> list[str]:
    """A text cut at commas, semicolons and contrast words: the span within which a word describes a subject."""
    return [c.strip() for c in CLAUSE_BREAK.split(strip_markers(text)) if c and c.strip()]


def contains(text: str, word: str) -> bool:
    """Whether a (lowercased) text holds a word: as a substring for Chinese, as a whole word for Latin, where a long
    word also matches its other endings (fine-tuning / fine-tune, normalizes / normalize) and its spellings with or
    without spaces and hyphens (DropConnect / Drop Connect, layernorm / layer-norm)."""
    if CJK.search(word):
        return word in text
    if re.search(rf"(?<![a-z0-9]){_endings(word)}(?![a-z0-9])", text):
        return True
    joined = _JOINERS.sub("", word)
    if len(joined) < 6:
        return False
    spaced = r"[\s\-_]?".join(re.escape(ch) for ch in joined)
    return re.search(rf"(?<![a-z0-9]){spaced}(?![a-z0-9])", text) is not None


_JOINERS = re.compile(r"[\s\-_]+")


def _endings(word: str) -> str:
    """A Latin word with its other endings, as a pattern."""
    stem = _SUFFIX.sub("", word) if len(word) >= 6 and word.isascii() and word.islower() else ""
    return rf"{re.escape(stem)}(?:ing|ed|es|e|s)?" if stem else rf"{re.escape(word)}(?:s|es)?"


def backed(word: str, text: str, lexicon: ClaimLexicon) -> bool:
    """Whether a text holds a word under any of its names (synonyms of its direction side, glossary names)."""
    lowered = text.lower()
    return any(contains(lowered, name) for name in lexicon.synonyms(word))


def terms_in(sentence: str, language: str) -> list[str]:
    """Technical terms and names a sentence states: every Latin word of a Chinese sentence; in English, acronyms,
    CamelCase, capitalised words past the first and words with digits or hyphens."""
    plain = strip_markers(sentence)
    found = []
    for i, match in enumerate(_LATIN_TERM.finditer(plain)):
        word = match.group(0)
        if language == "zh" and len(word) > 1:
            found.append(word)
        elif (sum(ch.isupper() for ch in word) >= 2 or any(ch.isdigit() for ch in word) or "-" in word
              or (i > 0 and word[0].isupper() and not plain[: match.start()].rstrip().endswith((".", ":")))):
            found.append(word)
    return list(dict.fromkeys(found))


def segments(text: str) -> list[str]:
    """A text cut at sentence ends and contrast words but not at commas: the span within which a sentence binds its
    words together ("如果迭代次数太少，算法容易欠拟合" is one)."""
    return [c.strip() for c in _SEGMENT.split(strip_markers(text)) if c and c.strip()]


def phrases(text: str) -> list[str]:
    """A text cut at punctuation and contrast words but not at "and"/和: "AdaGrad 和 AdaDelta 在 SGD 基础上增加了
    二阶动量" keeps both subjects with what is said of them."""
    return [c.strip() for c in _PHRASE.split(strip_markers(text)) if c and c.strip()]


def positions(text: str, word: str) -> list[tuple[int, int]]:
    """Where a word occurs in a lowercased text (as `contains` matches it)."""
    if CJK.search(word):
        return [(m.start(), m.end()) for m in re.finditer(re.escape(word), text)]
    # SGD is not found in SGD-M, nor entropy in cross-entropy
    pattern = rf"(?<![a-z0-9])(?<![a-z0-9]-){_endings(word)}(?![a-z0-9]|-[a-z0-9])"
    return [m.span() for m in re.finditer(pattern, text)]

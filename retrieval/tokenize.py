"""A tokenizer for mixed Chinese/English notes with code: jieba for CJK, words and split identifiers for the rest."""

from __future__ import annotations

import logging
import re
import unicodedata

from studygraph.text import CJK_RUN, jieba_module

log = logging.getLogger(__name__)

# Words, identifiers and dotted paths (np.linalg.eig); a dotted run of digits is a number (3.14).
_WORD = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_NUMBER = re.compile(r"\d+(?:\.\d+)*")
# Sizes written many ways ("1x1", "1×1", "1*1", LaTeX "1\times{1}", "3 x 3") become one token: 1x1.
_SIZE = re.compile(r"(?<![\w.])(\d+)\s*(?:[x×*]|\\times)\s*\{?(\d+)\}?(?![\w.])")
_SIZE_TOKEN = re.compile(r"\d+x\d+")
# CamelCase pieces: "GPT2LMHeadModel" -> GPT, 2, LM, Head, Model.
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

ENGLISH_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for from with without into onto as is are was were be been being
    do does did done doing have has had having can could should would will shall may might must it its this that
    these those there here what which who whom whose when where why how than then so such not no nor too very
    i me my we our you your he him his she her they them their about between through during before after above
    below up down out over under again further once also just only own same other some any each few more most
    all both either neither vs via e.g i.e etc""".split()
)
CHINESE_STOPWORDS = frozenset(
    """的 了 是 在 和 与 或 及 等 也 就 都 而 被 把 让 对 从 到 为 以 之 其 这 那 这个 那个 这些 那些 一个 一种
    什么 怎么 怎样 怎么样 如何 为什么 为何 哪些 哪个 哪里 吗 呢 吧 啊 呀 嘛 么 有 没有 我 你 他 她 它 我们 你们 他们
    它们 可以 能 能够 会 要 想 用 使用 里 中 上 下 个 些 很 更 最 还 又 并 且 即 但 但是 如果 因为 所以 时候 地 得 着 过
    请问 一下 是否 如何 关于 东西""".split()
)
STOPWORDS = ENGLISH_STOPWORDS | CHINESE_STOPWORDS

# Single characters that glue phrases together; a bigram holding one is not a useful index term.
_FUNCTION_CHARS = frozenset("的了是在和与或及等也就都而被把让对从到为以之其这那吗呢吧啊我你他它个些很更最还又并且即但怎么什哪有")

def _stem(word: str) -> str:
    """A light English plural stemmer: 'networks' -> 'network', 'queries' -> 'query'; short words untouched."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


def split_identifier(identifier: str) -> list[str]:
    """Pieces of a code identifier, lowercased: dotted paths, snake_case and CamelCase split, compounds kept whole.

    `np.linalg.eig` -> np, linalg, eig; `train_test_split` -> train_test_split, train, test, split;
    `LayerNorm` -> layernorm, layer, norm. Pieces shorter than three characters of a split compound are
    dropped as noise (`LoRA` stays `lora`, not lo + ra); parts of a dotted path are all kept (`nn`, `np`).
    """
    if _NUMBER.fullmatch(identifier) or _SIZE_TOKEN.fullmatch(identifier):
        return [identifier.lower()]
    out: list[str] = []
    for part in identifier.split("."):
        pieces = [p for snake in part.split("_") for p in _CAMEL_PART.findall(snake)]
        if len(pieces) <= 1:
            out.append(part.strip("_").lower())
            continue
        out.append(part.strip("_").lower())
        out.extend(p.lower() for p in pieces if len(p) >= 3)
    return out


def _latin_tokens(segment: str) -> list[str]:
    tokens: list[str] = []
    for match in _WORD.finditer(segment):
        for piece in split_identifier(match.group()):
            if not piece or piece in STOPWORDS or (len(piece) == 1 and not piece.isdigit()):
                continue
            tokens.append(_stem(piece))
    return tokens


def _cjk_tokens(run: str, bigrams: bool = True) -> list[str]:
    words = [t for t in jieba_module().lcut_for_search(run, HMM=True) if t.strip() and t not in STOPWORDS]
    if not bigrams:
        return words
    # Character bigrams catch what segmentation gets wrong (带动量 -> 带动 + 量 loses 动量) and partial
    # overlaps (超参数 / 超参优化). Bigrams that are already words, or hold a function character, are skipped.
    seen = set(words)
    for i in range(len(run) - 1):
        bigram = run[i:i + 2]
        if bigram not in seen and not (_FUNCTION_CHARS & set(bigram)):
            seen.add(bigram)
            words.append(bigram)
    return words


def tokenize(text: str, bigrams: bool = True) -> list[str]:
    """Index/query tokens of mixed text, in reading order (repeats kept, for term frequency).

    CJK runs go through jieba's search mode (words and their sub-words: 神经网络 -> 神经, 网络, 神经网络);
    other text yields lowercased words, numbers and split identifiers; stopwords of both languages are dropped;
    English plurals are folded. Text is NFKC-normalized first, so full-width forms match half-width ones.
    With `bigrams`, CJK character bigrams are added (index and query terms); without, only words.
    """
    text = _SIZE.sub(r"\1x\2", unicodedata.normalize("NFKC", text))
    tokens: list[str] = []
    pos = 0
    for run in CJK_RUN.finditer(text):
        tokens.extend(_latin_tokens(text[pos:run.start()]))
        tokens.extend(_cjk_tokens(run.group(), bigrams))
        pos = run.end()
    tokens.extend(_latin_tokens(text[pos:]))
    return tokens

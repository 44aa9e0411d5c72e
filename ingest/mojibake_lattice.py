"""Lattice search over the candidate characters of one damaged line: jieba words, character and tag trigrams."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ingest.mojibake_lm import (
    BOS,
    EOS,
    RUN_TOKENS,
    SPACE,
    TrigramModel,
    char_prior,
    is_cjk,
    tag_token,
    token_of,
)

Slot = tuple[str, ...]
Bias = Mapping[tuple[int, str], float]


@dataclass(frozen=True)
class Weights:
    """Log-linear weights of the decoder's scores (chosen by cross-validation, see bench/mojibake_cv.py).

    Attributes:
        word: jieba's unigram word model over the best segmentation.
        char: the character trigram model.
        tag: the POS-tag trigram model of the segmentation's words.
        tag_window: tag trigrams are scored for words starting this close (in positions) to damage.
    """

    word: float = 1.0
    char: float = 1.0
    tag: float = 0.5
    tag_window: int = 4


@dataclass(frozen=True)
class _Edge:
    """A word (or one position) over positions start..end-1 of the lattice."""

    end: int
    texts: tuple[str, ...]
    tokens: str
    word_logp: float
    tag: str
    damaged: tuple[tuple[int, str], ...]  # (position, chosen character) where the position is damaged


@dataclass
class Decoded:
    """The best text of a line and, per damaged slot, the best path score with each candidate."""

    text: str
    scores: dict[int, dict[str, float]]  # slot index in the line -> candidate -> max-marginal score


class LatticeDecoder:
    """Chooses one candidate per damaged slot of a line, maximizing a log-linear mix of three models.

    Args:
        freq: jieba's dictionary counts (prefixes of words have count 0).
        total: the dictionary's total count.
        char_lm: character trigram model over `token_of` tokens.
        tag_lm: POS-tag trigram model over `tag_token` tokens (optional).
        word_tags: jieba's word -> POS tag table (for `tag_lm`).
        weights: the weights of the scores.
    """

    def __init__(
        self,
        freq: Mapping[str, int],
        total: float,
        char_lm: TrigramModel,
        tag_lm: TrigramModel | None = None,
        word_tags: Mapping[str, str] | None = None,
        weights: Weights | None = None,
    ):
        self.freq, self.log_total = freq, math.log(total)
        self.char_lm, self.tag_lm, self.word_tags = char_lm, tag_lm, word_tags or {}
        self.weights = weights or Weights()
        self.char_logp = lru_cache(maxsize=None)(self._char_logp)

    def _char_logp(self, char: str) -> float:
        """log P of one character as a word of its own (jieba's count, or a prior for symbols)."""
        return math.log(max(self.freq.get(char, 0), char_prior(char))) - self.log_total

    def decode(self, slots: list[Slot], bias: Bias | None = None) -> Decoded:
        """The best text of a line and max-marginal scores of its damaged slots.

        Args:
            slots: the line's characters; a damaged one is a tuple of its candidates.
            bias: extra score per (slot index, candidate), e.g. from the rest of the document.
        """
        options, origin = _positions(slots)
        slot_position = {slot: pos for pos, slot in enumerate(origin)}
        lattice = _Lattice(self, options, {(slot_position[s], c): v for (s, c), v in (bias or {}).items()})
        text = lattice.forward()
        scores = lattice.backward()
        return Decoded(text, {origin[pos]: candidates for pos, candidates in scores.items()})

    def edges(self, options: list[Slot], start: int) -> list[_Edge]:
        """Single positions and dictionary words that start at `start`, over every candidate."""
        damaged = len(options[start]) > 1
        edges = []
        for text in options[start]:
            fixed_symbol = len(text) > 1 or (not damaged and not is_cjk(text))
            logp = 0.0 if fixed_symbol else self.char_logp(text)  # a fixed symbol: every path pays it
            hurt = ((start, text),) if damaged else ()
            edges.append(_Edge(start + 1, (text,), token_of(text[0]), logp, self._tag(text), hurt))
        stack: list[tuple[int, str, tuple[str, ...]]] = [(start, "", ())]
        while stack:
            pos, prefix, texts = stack.pop()
            if pos == len(options):
                continue
            for char in options[pos]:
                word = prefix + char
                count = self.freq.get(word)
                if count is None or not is_cjk(char):
                    continue
                chosen = (*texts, char)
                if count > 0 and len(chosen) > 1:
                    hurt = tuple((start + k, c) for k, c in enumerate(chosen) if len(options[start + k]) > 1)
                    logp = math.log(count) - self.log_total
                    tag = tag_token(word, self.word_tags)
                    edges.append(_Edge(pos + 1, chosen, "".join(map(token_of, chosen)), logp, tag, hurt))
                stack.append((pos + 1, word, chosen))
        return edges

    def _tag(self, text: str) -> str:
        if is_cjk(text[0]):
            return tag_token(text, self.word_tags)
        token = token_of(text[0])
        return "" if token == SPACE else token


class _Lattice:
    """Forward (Viterbi) and backward (max-marginal) passes over one line; states are the last two
    character tokens and the last two tag tokens."""

    def __init__(self, decoder: LatticeDecoder, options: list[Slot], bias: Bias):
        self.decoder, self.options, self.bias = decoder, options, bias
        weights = decoder.weights
        self.ww, self.wc = weights.word, weights.char
        self.wt = weights.tag if decoder.tag_lm is not None else 0.0
        n = len(options)
        damaged = [len(o) > 1 for o in options]
        window = weights.tag_window
        self.need_char = [any(damaged[max(0, p - 2) : p + 1]) for p in range(n)]
        self.need_tag = [any(damaged[max(0, p - window) : p + window + 1]) for p in range(n)]
        self.eos_char, self.eos_tag = any(damaged[-2:]), any(damaged[-window:])
        self.alpha: list[dict[str, tuple[float, int, str, tuple[str, ...]]]] = [{} for _ in range(n + 1)]
        self.moves: list[list[tuple[str, _Edge, float, str]]] = [[] for _ in range(n)]

    def _score(self, state: str, edge: _Edge, start: int) -> tuple[float, str]:
        char_lm = self.decoder.char_lm
        score = self.ww * edge.word_logp
        context, tags = state[:2], state[2:]
        for k, token in enumerate(edge.tokens):
            if self.need_char[start + k]:
                score += self.wc * char_lm.logp(context + token)
            context = context[1] + token
        if edge.tag and self.wt:
            if self.need_tag[start]:
                score += self.wt * self.decoder.tag_lm.logp(tags + edge.tag)
            tags = tags[1] + edge.tag
        for pos_char in edge.damaged:
            score += self.bias.get(pos_char, 0.0)
        return score, context + tags

    def _final(self, state: str) -> float:
        score = self.wc * self.decoder.char_lm.logp(state[:2] + EOS) if self.eos_char else 0.0
        if self.eos_tag and self.wt:
            score += self.wt * self.decoder.tag_lm.logp(state[2:] + EOS)
        return score

    def forward(self) -> str:
        """Viterbi over the lattice; returns the best text."""
        alpha, n = self.alpha, len(self.options)
        alpha[0][BOS * 4] = (0.0, -1, "", ())
        for start in range(n):
            edges = self.decoder.edges(self.options, start)
            moves = self.moves[start]
            for state, (base, *_) in alpha[start].items():
                for edge in edges:
                    score, new = self._score(state, edge, start)
                    moves.append((state, edge, score, new))
                    current = alpha[edge.end].get(new)
                    if current is None or base + score > current[0]:
                        alpha[edge.end][new] = (base + score, start, state, edge.texts)
        self.final = {state: value[0] + self._final(state) for state, value in alpha[n].items()}
        state, pos, pieces = max(self.final, key=self.final.__getitem__), n, []
        while pos > 0:
            _, pos, state, texts = alpha[pos][state]
            pieces.extend(reversed(texts))
        return "".join(reversed(pieces))

    def backward(self) -> dict[int, dict[str, float]]:
        """Best score of a full path through each candidate of each damaged position."""
        n, alpha = len(self.options), self.alpha
        beta: list[dict[str, float]] = [{} for _ in range(n + 1)]
        beta[n] = {state: value - alpha[n][state][0] for state, value in self.final.items()}
        scores: dict[int, dict[str, float]] = {}
        for start in range(n - 1, -1, -1):
            best: dict[str, float] = {}
            for state, edge, score, new in self.moves[start]:
                rest = score + beta[edge.end][new]
                if rest > best.get(state, -math.inf):
                    best[state] = rest
                if edge.damaged:
                    total = alpha[start][state][0] + rest
                    for pos, char in edge.damaged:
                        slot = scores.setdefault(pos, {})
                        if total > slot.get(char, -math.inf):
                            slot[char] = total
            beta[start] = best
        return scores


def _positions(slots: list[Slot]) -> tuple[list[Slot], list[int]]:
    """Merge runs of fixed ASCII letters, digits or spaces into one position; keep each one's slot index."""
    options: list[Slot] = []
    origin: list[int] = []
    for index, slot in enumerate(slots):
        if len(slot) == 1 and options and len(options[-1]) == 1:
            token = token_of(slot[0])
            if token in RUN_TOKENS and token_of(options[-1][0][-1]) == token:
                options[-1] = (options[-1][0] + slot[0],)
                continue
        options.append(slot)
        origin.append(index)
    return options, origin

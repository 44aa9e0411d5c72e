"""Lattice search over the candidate characters of one damaged line: jieba words x character trigrams."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ingest.decode.char_lm import (
    BOS,
    EOS,
    RUN_TOKENS,
    TrigramModel,
    char_prior,
    token_of,
)
from studygraph.text import is_cjk

Slot = tuple[str, ...]
Bias = Mapping[tuple[int, str], float]
# At most this many search states per position: a safety net for long runs of damaged characters.
BEAM = 64


@dataclass(frozen=True)
class Weights:
    """Log-linear weights of the decoder's scores (chosen by cross-validation, see bench/mojibake_cv.py).

    Attributes:
        word: jieba's unigram word model over the best segmentation.
        char: the character trigram model.
    """

    word: float = 1.0
    char: float = 1.0


@dataclass(frozen=True)
class _Edge:
    """A word (or one position) over positions start..end-1 of the lattice."""

    end: int
    texts: tuple[str, ...]
    tokens: str
    word_logp: float
    damaged: tuple[tuple[int, str], ...]  # (position, chosen character) where the position is damaged


@dataclass
class Decoded:
    """The best text of a line and, per damaged slot, the best path score with each candidate."""

    text: str
    scores: dict[int, dict[str, float]]  # slot index in the line -> candidate -> max-marginal score


class LatticeDecoder:
    """Chooses one candidate per damaged slot of a line, maximizing a log-linear mix of two models.

    Args:
        freq: jieba's dictionary counts (prefixes of words have count 0).
        total: the dictionary's total count.
        char_lm: character trigram model over `token_of` tokens.
        weights: the weights of the scores.
    """

    def __init__(
        self,
        freq: Mapping[str, int],
        total: float,
        char_lm: TrigramModel,
        weights: Weights | None = None,
    ):
        self.freq, self.log_total = freq, math.log(total)
        self.char_lm = char_lm
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
        position_bias: dict[int, dict[str, float]] = {}
        for (slot, char), value in (bias or {}).items():
            position_bias.setdefault(slot_position[slot], {})[char] = value
        pieces: list[str] = []
        scores: dict[int, dict[str, float]] = {}
        for begin, end in _segments(options):
            segment = options[begin:end]
            if all(len(option) == 1 for option in segment):
                pieces.append("".join(option[0] for option in segment))
                continue
            context = "".join(token_of(option[0][0]) for option in options[max(0, begin - 2) : begin])
            segment_bias = {
                (p - begin, char): value
                for p in range(begin, end)
                for char, value in position_bias.get(p, {}).items()
            }
            lattice = _Lattice(
                self, segment, segment_bias, BOS * (2 - len(context)) + context, end == len(options)
            )
            pieces.append(lattice.forward())
            scores.update({origin[begin + pos]: found for pos, found in lattice.backward().items()})
        return Decoded("".join(pieces), scores)

    def edges(self, options: list[Slot], start: int) -> list[_Edge]:
        """Single positions and dictionary words that start at `start`, over every candidate."""
        damaged = len(options[start]) > 1
        edges = []
        for text in options[start]:
            fixed_symbol = len(text) > 1 or (not damaged and not is_cjk(text))
            logp = 0.0 if fixed_symbol else self.char_logp(text)  # a fixed symbol: every path pays it
            hurt = ((start, text),) if damaged else ()
            edges.append(_Edge(start + 1, (text,), token_of(text[0]), logp, hurt))
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
                    edges.append(_Edge(pos + 1, chosen, "".join(map(token_of, chosen)), logp, hurt))
                stack.append((pos + 1, word, chosen))
        return edges


class _Lattice:
    """Forward (Viterbi) and backward (max-marginal) passes over a segment of a line.

    A state is the last two tokens; `context` is the state before the segment and `line_end` says whether
    the segment ends the line (and so scores the end-of-line token).
    """

    def __init__(
        self, decoder: LatticeDecoder, options: list[Slot], bias: Bias, context: str, line_end: bool
    ):
        self.decoder, self.options, self.bias, self.context = decoder, options, bias, context
        weights = decoder.weights
        self.ww, self.wc = weights.word, weights.char
        n = len(options)
        damaged = [len(o) > 1 for o in options]
        # Trigrams with no damaged token score the same on every path: they are left out.
        self.need = [any(damaged[max(0, p - 2) : p + 1]) for p in range(n)]
        self.need_eos = line_end and any(damaged[-2:])
        self.alpha: list[dict[str, tuple[float, int, str, tuple[str, ...]]]] = [{} for _ in range(n + 1)]
        self.moves: list[list[tuple[str, _Edge, float, str]]] = [[] for _ in range(n)]

    def _score(self, state: str, edge: _Edge, start: int) -> tuple[float, str]:
        char_lm = self.decoder.char_lm
        score = self.ww * edge.word_logp
        for k, token in enumerate(edge.tokens):
            if self.need[start + k]:
                score += self.wc * char_lm.logp(state + token)
            state = state[1] + token
        if self.bias:
            for pos_char in edge.damaged:
                score += self.bias.get(pos_char, 0.0)
        return score, state

    def _final(self, state: str) -> float:
        return self.wc * self.decoder.char_lm.logp(state + EOS) if self.need_eos else 0.0

    def forward(self) -> str:
        """Viterbi over the lattice; returns the best text."""
        alpha, n = self.alpha, len(self.options)
        alpha[0][self.context] = (0.0, -1, "", ())
        for start in range(n):
            if len(alpha[start]) > BEAM:
                alpha[start] = dict(sorted(alpha[start].items(), key=lambda item: -item[1][0])[:BEAM])
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
                after = beta[edge.end].get(new)
                if after is None:  # a state the beam dropped
                    continue
                rest = score + after
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


def _segments(options: list[Slot]) -> list[tuple[int, int]]:
    """Cut a line where the search splits exactly: after a fixed symbol that follows another fixed position.

    No word spans a non-Chinese symbol, and the trigrams after the cut see only the two fixed positions
    before it, so the pieces can be searched one by one (long lines stay cheap).
    """
    cuts = [0]
    for q in range(2, len(options)):
        if len(options[q - 2]) == 1 and len(options[q - 1]) == 1 and not is_cjk(options[q - 1][0][0]):
            cuts.append(q)
    cuts.append(len(options))
    return [(begin, end) for begin, end in zip(cuts, cuts[1:], strict=False) if end > begin]


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

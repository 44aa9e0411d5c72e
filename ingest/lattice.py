"""Lattice search over the candidate characters of one damaged line: jieba words x character trigrams."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ingest.mojibake_lm import _RUN_TOKENS, BOS, EOS, CharTrigramModel, token_of

Slot = tuple[str, ...]


@dataclass(frozen=True)
class _Edge:
    """A word (or single character) over positions start..end-1 of the lattice."""

    end: int
    texts: tuple[str, ...]
    tokens: str
    word_logp: float
    damaged: tuple[tuple[int, str], ...]  # (position, chosen character) for damaged positions


@dataclass
class Marginals:
    """The best text of a line and, per damaged position, the best score with each candidate."""

    text: str
    scores: dict[int, dict[str, float]]  # slot index -> candidate -> max-marginal score


class LatticeDecoder:
    """Chooses one candidate per damaged slot: log-linear mix of a word model and a character model.

    Args:
        freq: jieba's dictionary counts (prefixes have count 0).
        log_total: log of the dictionary's total count.
        char_logp: log-probability of a character that is not a dictionary word (single-character edge).
        char_lm: the character trigram model.
        word_weight: weight of the word segmentation score.
        char_weight: weight of the character model score.
    """

    def __init__(
        self,
        freq: Mapping[str, int],
        log_total: float,
        char_logp: Callable[[str], float],
        char_lm: CharTrigramModel,
        word_weight: float = 1.0,
        char_weight: float = 1.0,
    ):
        self.freq, self.log_total, self.char_logp = freq, log_total, char_logp
        self.lm, self.ww, self.wc = char_lm, word_weight, char_weight

    def _positions(self, slots: list[Slot]) -> tuple[list[Slot], list[int]]:
        """Merge runs of fixed ASCII letters, digits or spaces into one position (slot index kept)."""
        options: list[Slot] = []
        origin: list[int] = []
        for index, slot in enumerate(slots):
            if len(slot) == 1 and options and len(options[-1]) == 1:
                token = token_of(slot[0])
                if token in _RUN_TOKENS and token_of(options[-1][0][-1]) == token:
                    options[-1] = (options[-1][0] + slot[0],)
                    continue
            options.append(slot)
            origin.append(index)
        return options, origin

    def _edges(self, options: list[Slot], start: int) -> list[_Edge]:
        slot = options[start]
        damaged = len(slot) > 1
        edges = []
        for char in slot:
            token = token_of(char[0])
            if len(char) > 1 or (not damaged and not _is_cjk(char)):
                logp = 0.0  # a fixed run or symbol: every path pays the same
            else:
                logp = self.char_logp(char)
            edges.append(_Edge(start + 1, (char,), token, logp, ((start, char),) if damaged else ()))
        stack: list[tuple[int, str, tuple[str, ...]]] = [(start, "", ())]
        while stack:
            pos, prefix, texts = stack.pop()
            if pos == len(options):
                continue
            for char in options[pos]:
                word = prefix + char
                count = self.freq.get(word)
                if count is None or not _is_cjk(char):
                    continue
                chosen = (*texts, char)
                if count > 0 and len(chosen) > 1:
                    hurt = tuple(
                        (start + k, c) for k, c in enumerate(chosen) if len(options[start + k]) > 1
                    )
                    tokens = "".join(token_of(c) for c in chosen)
                    edges.append(_Edge(pos + 1, chosen, tokens, math.log(count) - self.log_total, hurt))
                stack.append((pos + 1, word, chosen))
        return edges

    def _edge_score(self, state: str, edge: _Edge, start: int, need: list[bool], bias) -> tuple[float, str]:
        score = self.ww * edge.word_logp
        context = state
        for k, token in enumerate(edge.tokens):
            if need[start + k]:
                score += self.wc * self.lm.logp(context + token)
            context = context[1] + token
        for pos, char in edge.damaged:
            score += bias.get((pos, char), 0.0)
        return score, context

    def marginals(self, slots: list[Slot], bias: Mapping[tuple[int, str], float] | None = None) -> Marginals:
        """Best text and max-marginal scores of a line's damaged slots (`bias` by slot index and char)."""
        options, origin = self._positions(slots)
        n = len(options)
        damaged = [len(o) > 1 for o in options]
        need = [any(damaged[max(0, p - 2) : p + 1]) for p in range(n)]
        need_eos = any(damaged[-2:])
        pos_bias = {}
        if bias:
            slot_pos = {slot: pos for pos, slot in enumerate(origin)}
            pos_bias = {(slot_pos[s], c): v for (s, c), v in bias.items() if s in slot_pos}
        edges = [self._edges(options, s) for s in range(n)]
        alpha: list[dict[str, tuple[float, tuple[int, str, tuple[str, ...]] | None]]] = [{} for _ in range(n + 1)]
        alpha[0][BOS + BOS] = (0.0, None)
        for start in range(n):
            for state, (base, _) in alpha[start].items():
                for edge in edges[start]:
                    score, new = self._edge_score(state, edge, start, need, pos_bias)
                    cur = alpha[edge.end].get(new)
                    if cur is None or base + score > cur[0]:
                        alpha[edge.end][new] = (base + score, (start, state, edge.texts))
        final = {s: v[0] + (self.wc * self.lm.logp(s + EOS) if need_eos else 0.0) for s, v in alpha[n].items()}
        state = max(final, key=final.__getitem__)
        pieces: list[str] = []
        pos = n
        while pos > 0:
            _, (start, prev, texts) = alpha[pos][state]
            pieces.extend(reversed(texts))
            pos, state = start, prev
        text = "".join(reversed(pieces))
        scores = self._backward(edges, alpha, final, need, pos_bias, n)
        return Marginals(text, {origin[p]: s for p, s in scores.items()})

    def _backward(self, edges, alpha, final, need, pos_bias, n) -> dict[int, dict[str, float]]:
        beta: list[dict[str, float]] = [{} for _ in range(n + 1)]
        beta[n] = {s: v - alpha[n][s][0] for s, v in final.items()}
        scores: dict[int, dict[str, float]] = {}
        for start in range(n - 1, -1, -1):
            for state, (base, _) in alpha[start].items():
                best = -math.inf
                for edge in edges[start]:
                    score, new = self._edge_score(state, edge, start, need, pos_bias)
                    rest = beta[edge.end].get(new)
                    if rest is None:
                        continue
                    best = max(best, score + rest)
                    total = base + score + rest
                    for pos, char in edge.damaged:
                        slot = scores.setdefault(pos, {})
                        if total > slot.get(char, -math.inf):
                            slot[char] = total
                beta[start][state] = best
        return scores


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"

"""Choosing the lost bytes of a whole damaged document: line lattices, then document-level agreement."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from ingest.decode.char_lm import RUN_TOKENS, TrigramModel, char_prior, load_counts
from ingest.decode.lattice import Bias, Decoded, LatticeDecoder, Slot, Weights
from studygraph.text import jieba_module

logger = logging.getLogger(__name__)

# Every weight here and in `Weights` was chosen by 5-fold cross-validation on the 55 paddle notes, damaged
# as the seed was (12,798 damaged characters; bench/mojibake_cv.py), never on the seed. Errors there:
# jieba word model alone 954; + character trigrams 277; + document prior (EM) 252; + agreement 251.
# POS-tag trigrams (jieba.posseg) scored 254-311 there and were left out.
# Share of jieba's in-word character bigrams in the character model.
BIGRAM_WEIGHT = 0.2


@dataclass(frozen=True)
class DocumentSettings:
    """How the document's own evidence adjusts the line-by-line choice (chosen by cross-validation).

    Attributes:
        prune_gap: candidates whose single-character log-probability is this far below the best one's
            are dropped before the search (no correct character of the test corpora was that far).
        prior_weight: weight of the document's re-estimated candidate frequencies (EM, Saerens et al.).
        prior_strength: pseudo-count of the general frequencies in that re-estimation.
        iterations: EM iterations.
        agreement_weight: weight of the other occurrences of the same damaged window in the document.
        agreement_window: slots on each side that make two damaged occurrences "the same window".
    """

    prune_gap: float = 9.0
    prior_weight: float = 1.0
    prior_strength: float = 3.0
    iterations: int = 10
    agreement_weight: float = 0.5
    agreement_window: int = 2


def build_decoder(
    counts: Mapping[str, Mapping[str, float]],
    freq: Mapping[str, int],
    total: float,
    weights: Weights | None = None,
    bigram_weight: float = BIGRAM_WEIGHT,
) -> LatticeDecoder:
    """A decoder from count tables (`char_trigrams`, `dictionary_bigrams`) and jieba's dictionary.

    Args:
        counts: the count tables (as `build_counts` makes them).
        freq: jieba's dictionary counts.
        total: their total.
        weights: the decoder's score weights.
        bigram_weight: share of the dictionary bigrams in the character model.
    """

    @cache
    def prior(token: str) -> float:
        if token in RUN_TOKENS or len(token) != 1 or token < " ":
            return 0.01
        return max(freq.get(token, 0), char_prior(token)) / total

    char_lm = TrigramModel(counts["char_trigrams"], prior, counts.get("dictionary_bigrams"), bigram_weight)
    return LatticeDecoder(freq, total, char_lm, weights)


@lru_cache(maxsize=1)
def shipped_decoder() -> LatticeDecoder:
    """The decoder over the shipped models and jieba's dictionary (loaded on first use: ~1-2 s)."""
    jieba = jieba_module()
    return build_decoder(load_counts(), jieba.dt.FREQ, jieba.dt.total)


def restore_lines(
    lines: list[list[Slot]], decoder: LatticeDecoder, settings: DocumentSettings | None = None
) -> list[str]:
    """Choose every damaged slot of a document, line by line, then agree across the document.

    Args:
        lines: the document's lines as slots (a damaged slot holds its candidate characters).
        decoder: the line decoder.
        settings: the document-level adjustments.

    Returns:
        The restored text of each line.
    """
    settings = settings or DocumentSettings()
    lines = [_prune(line, decoder, settings.prune_gap) for line in lines]
    first = {i: decoder.decode(line) for i, line in enumerate(lines) if any(len(s) > 1 for s in line)}
    posteriors = {
        (i, slot): _normalize(scores) for i, d in first.items() for slot, scores in d.scores.items()
    }
    bias = _prior_bias(lines, posteriors, decoder, settings)
    if settings.agreement_weight:
        _add_agreement_bias(bias, lines, posteriors, settings)
    out = []
    for index, line in enumerate(lines):
        if index not in first:
            out.append("".join(slot[0] for slot in line))
        elif _changes(first[index], bias.get(index)):
            out.append(decoder.decode(line, bias[index]).text)
        else:
            out.append(first[index].text)
    return out


def _prune(line: list[Slot], decoder: LatticeDecoder, gap: float) -> list[Slot]:
    pruned = []
    for slot in line:
        if len(slot) > 1:
            best = max(decoder.char_logp(c) for c in slot)
            slot = tuple(c for c in slot if decoder.char_logp(c) >= best - gap)
        pruned.append(slot)
    return pruned


def _normalize(scores: dict[str, float]) -> dict[str, float]:
    """Max-marginal scores as a probability distribution over the candidates."""
    top = max(scores.values())
    weights = {c: math.exp(v - top) for c, v in scores.items()}
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


def _prior_bias(lines, posteriors, decoder: LatticeDecoder, settings: DocumentSettings) -> dict[int, dict]:
    """Per line, a bias toward the candidates this document uses more than general text does.

    For each candidate set, EM re-estimates the candidates' frequencies in this document from the
    line-level posteriors (Saerens, Latinne & Decaestecker 2002), starting from jieba's frequencies.
    """
    groups: dict[Slot, list[tuple[int, int]]] = {}
    for key in posteriors:
        groups.setdefault(lines[key[0]][key[1]], []).append(key)
    bias: dict[int, dict[tuple[int, str], float]] = {}
    for candidates, keys in groups.items():
        general = _normalize({c: decoder.char_logp(c) for c in candidates})
        document = _reestimate(general, [posteriors[k] for k in keys], settings)
        adjust = {c: settings.prior_weight * math.log(document[c] / general[c]) for c in candidates}
        for line, slot in keys:
            bias.setdefault(line, {}).update({(slot, c): v for c, v in adjust.items()})
    return bias


def _reestimate(general: dict[str, float], posteriors: list[dict[str, float]], settings) -> dict[str, float]:
    document = dict(general)
    for _ in range(settings.iterations):
        totals = {c: settings.prior_strength * p for c, p in general.items()}
        for posterior in posteriors:
            adjusted = {c: posterior.get(c, 0.0) * document[c] / general[c] for c in general}
            norm = sum(adjusted.values()) or 1.0
            for c, value in adjusted.items():
                totals[c] += value / norm
        norm = sum(totals.values())
        document = {c: value / norm for c, value in totals.items()}
    return document


def _add_agreement_bias(bias, lines, posteriors, settings: DocumentSettings) -> None:
    """Occurrences of the same damaged window lean toward what the other occurrences prefer."""
    width = settings.agreement_window
    windows: dict[tuple, list[tuple[int, int]]] = {}
    for line, slot in posteriors:
        row = lines[line]
        key = tuple(row[j] if 0 <= j < len(row) else ("\n",) for j in range(slot - width, slot + width + 1))
        windows.setdefault(key, []).append((line, slot))
    for members in windows.values():
        if len(members) < 2:
            continue
        for line, slot in members:
            others = [posteriors[m] for m in members if m != (line, slot)]
            target = bias.setdefault(line, {})
            for c in lines[line][slot]:
                vote = sum(math.log(max(p.get(c, 0.0), 1e-9)) for p in others)
                target[(slot, c)] = target.get((slot, c), 0.0) + settings.agreement_weight * vote


def _changes(decoded: Decoded, bias: Bias | None) -> bool:
    """Whether the bias could change any slot's choice (else the first decoding stands)."""
    if not bias:
        return False
    for slot, scores in decoded.scores.items():
        best = max(scores, key=scores.__getitem__)
        biased = max(scores, key=lambda c: scores[c] + bias.get((slot, c), 0.0))
        if biased != best:
            return True
    return False

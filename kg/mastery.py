"""Measured mastery: a concept whose review cards are retained counts as known, beside what the learner declared.

A card is retained when it has been recalled across gaps (FSRS state Review, stability at least
`learn.mastery_stability_days`) and FSRS predicts at least `learn.mastery_retrievability` recall now; a concept
is mastered when at least `learn.mastery_coverage` of its current cards are retained (see LearnSettings for why
these numbers). Mastery is measured, so it also fades: an overdue or forgotten card stops counting.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from kg.cards import Card
from kg.review import build_scheduler, load_review_state, now_utc, retrievability, stability, status

if TYPE_CHECKING:
    import fsrs

    from kg.review import ReviewEntry, ReviewState
    from studygraph.settings import LearnSettings
    from studygraph.workspace import Workspace


class ConceptMastery(BaseModel):
    """How well the learner holds one concept, measured on its cards."""

    model_config = ConfigDict(frozen=True)

    concept: str
    concept_id: str
    cards: int
    reviewed: int
    retained: int
    mean_retrievability: float
    mastered: bool


def is_retained(scheduler: fsrs.Scheduler, card_id: str, entry: ReviewEntry | None, now: datetime,
                settings: LearnSettings) -> bool:
    """Recalled across gaps and likely to be recalled now (thresholds from the settings)."""
    return (status(entry) == "review" and stability(entry) >= settings.mastery_stability_days
            and retrievability(scheduler, card_id, entry, now) >= settings.mastery_retrievability)


def concept_mastery(cards: Sequence[Card], state: ReviewState, settings: LearnSettings,
                    now: datetime | None = None) -> dict[str, ConceptMastery]:
    """Mastery of every concept that has cards, by concept id."""
    moment = now or now_utc()
    scheduler = build_scheduler(settings)
    by_concept: dict[str, list[Card]] = defaultdict(list)
    for card in cards:
        if card.concept_id:
            by_concept[card.concept_id].append(card)
    out = {}
    for concept_id, group in by_concept.items():
        entries = [(c, state.cards.get(c.id)) for c in group]
        reviewed = [(c, e) for c, e in entries if status(e) != "new"]
        recall = [retrievability(scheduler, c.id, e, moment) for c, e in reviewed]
        retained = sum(is_retained(scheduler, c.id, e, moment, settings) for c, e in reviewed)
        needed = max(1, math.ceil(settings.mastery_coverage * len(group)))
        out[concept_id] = ConceptMastery(
            concept=group[0].concept, concept_id=concept_id, cards=len(group), reviewed=len(reviewed),
            retained=retained, mean_retrievability=sum(recall) / len(recall) if recall else 0.0,
            mastered=retained >= needed)
    return out


def mastered_ids(mastery: Mapping[str, ConceptMastery]) -> list[str]:
    return [cid for cid, m in mastery.items() if m.mastered]


def measured_mastery(workspace: Workspace, cards: Callable[[], Sequence[Card]], settings: LearnSettings,
                     now: datetime | None = None) -> dict[str, ConceptMastery]:
    """Mastery measured on the workspace's cards and review history (empty when nothing was reviewed).

    Args:
        cards: gives the cards of the notes (e.g. a `StudyService`'s cached ones); asked only when there is a
            review history, so a learner who never reviewed pays nothing.
    """
    state = load_review_state(workspace)
    if not state.log:
        return {}
    return concept_mastery(cards(), state, settings, now)


def known_names(declared: Iterable[str], mastery: Mapping[str, ConceptMastery]) -> tuple[list[str], list[str]]:
    """What counts as known for paths and `next`: the declared names, then the measured ones not declared.

    Returns:
        (all known names, the names known by measurement only).
    """
    declared = list(declared)
    seen = {n.casefold() for n in declared}
    measured = [m.concept for m in mastery.values() if m.mastered and m.concept.casefold() not in seen]
    return declared + measured, measured


def measured_known(workspace: Workspace, cards: Callable[[], Sequence[Card]], settings: LearnSettings,
                   declared: Iterable[str], now: datetime | None = None) -> tuple[list[str], list[str]]:
    """What counts as known for paths and `next`, from the declared names and the workspace's reviews.

    Returns:
        (all known names, the names known by measurement only).
    """
    return known_names(declared, measured_mastery(workspace, cards, settings, now))

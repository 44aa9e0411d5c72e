"""Shared pieces of the review-card tests: the seed ingested once (fake embedder), and a review simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import SEED, FakeEmbedder

EMBEDDER = "fake:hashed-bow"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ingest_seed(root: Path, notes: list[Path] | None = None):
    """Ingest the notes (default: the seed) into `root` with the fake embedder; returns a StudyService."""
    from assistant.service import StudyService
    from ingest.pipeline import ingest_paths
    from studygraph.settings import Settings

    embedder = FakeEmbedder()
    settings = Settings(workspace=root, learn={"fuzz": False})
    ingest_paths(notes or [SEED], settings, embedder=embedder)
    return StudyService(settings, embedder=embedder)


def simulate(state, cards, scheduler, days: int, rating_of, start: datetime = START):
    """Review `cards` for `days` days: on day 0 each card twice (10 minutes apart, through the learning steps),
    then every morning each card that is due; `rating_of(card)` gives the rating. Returns (state, end)."""
    from kg.review import apply_review, is_due

    for card in cards:
        state = apply_review(state, card, rating_of(card), start, scheduler)
        state = apply_review(state, card, rating_of(card), start + timedelta(minutes=10), scheduler)
    for day in range(1, days + 1):
        moment = start + timedelta(days=day)
        for card in cards:
            if is_due(state.cards.get(card.id), moment):
                state = apply_review(state, card, rating_of(card), moment, scheduler)
    return state, start + timedelta(days=days, hours=1)

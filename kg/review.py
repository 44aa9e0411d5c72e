"""Spaced repetition of cards with FSRS (the `fsrs` package, 6.x API): review state kept in the workspace beside
the profile (`review.json`, outside generation directories), written atomically under its own lock, so it
survives re-ingests and rebuilds.

Cards are regenerated from the notes each time; `sync_cards` lines the state up with them: a new card is added,
a card whose id is still produced keeps its history, a card no longer produced is retired (kept, with its
history, in case its passage comes back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from kg.cards import Card
from studygraph.errors import InputError
from studygraph.learner_files import learner_file_lock, read_learner_file
from studygraph.workspace import Workspace, atomic_write_json

if TYPE_CHECKING:
    import fsrs

    from studygraph.settings import LearnSettings

REVIEW_FILE = "review.json"
REVIEW_LOCK = ".review.lock"
REVIEW_SCHEMA = 1
RATINGS = {"again": 1, "hard": 2, "good": 3, "easy": 4}
RATING_NAMES = {v: k for k, v in RATINGS.items()}
CardStatus = Literal["new", "learning", "review", "relearning"]


class ReviewEntry(BaseModel):
    """What the state remembers of one card: enough to show it even after its passage is gone."""

    model_config = ConfigDict(extra="forbid")

    concept: str = ""
    kind: str = ""
    front: str = ""
    added: str = Field(description="When the card first appeared (ISO 8601, UTC).")
    retired: str | None = Field(None, description="When its passage stopped producing it; None while it exists.")
    fsrs: dict | None = Field(None, description="The fsrs Card as `to_dict()`; None until first reviewed.")


class ReviewLogEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card: str
    rating: int = Field(ge=1, le=4)
    at: str
    duration_ms: int | None = None


class ReviewState(BaseModel):
    """Every card ever seen, by id, and every review ever made."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = REVIEW_SCHEMA
    cards: dict[str, ReviewEntry] = Field(default_factory=dict)
    log: list[ReviewLogEntry] = Field(default_factory=list)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_rating(value: str | int) -> int:
    """1-4 from 'again' / 'hard' / 'good' / 'easy', their first letters, or the number.

    Raises:
        InputError: anything else.
    """
    text = str(value).strip().lower()
    if text.isdigit() and 1 <= int(text) <= 4:
        return int(text)
    for name, number in RATINGS.items():
        if text and name.startswith(text):
            return number
    raise InputError(f"Unknown rating '{value}': use again, hard, good or easy (or 1-4).")


# --------------------------------------------------------------------------- fsrs


def build_scheduler(settings: LearnSettings) -> fsrs.Scheduler:
    """The FSRS scheduler the settings describe."""
    from fsrs import Scheduler

    return Scheduler(desired_retention=settings.desired_retention,
                     learning_steps=tuple(timedelta(minutes=m) for m in settings.learning_steps_minutes),
                     relearning_steps=tuple(timedelta(minutes=m) for m in settings.relearning_steps_minutes),
                     maximum_interval=settings.maximum_interval_days, enable_fuzzing=settings.fuzz)


def fsrs_card(card_id: str, entry: ReviewEntry | None) -> fsrs.Card:
    """The fsrs Card of an entry (a fresh one, due now, for a card never reviewed)."""
    from fsrs import Card as FsrsCard

    if entry is not None and entry.fsrs is not None:
        return FsrsCard.from_dict(entry.fsrs)
    return FsrsCard(card_id=int(card_id.removeprefix("card-")[:12], 16), due=datetime(2000, 1, 1, tzinfo=UTC))


def status(entry: ReviewEntry | None) -> CardStatus:
    if entry is None or entry.fsrs is None:
        return "new"
    return {1: "learning", 2: "review", 3: "relearning"}[int(entry.fsrs["state"])]


def due_at(entry: ReviewEntry | None) -> datetime | None:
    """When the card is due; None for a card never reviewed (new)."""
    if entry is None or entry.fsrs is None:
        return None
    return datetime.fromisoformat(entry.fsrs["due"])


def retrievability(scheduler: fsrs.Scheduler, card_id: str, entry: ReviewEntry | None, now: datetime) -> float:
    """Predicted probability of recalling the card now (0 for a card never reviewed)."""
    if entry is None or entry.fsrs is None:
        return 0.0
    return float(scheduler.get_card_retrievability(fsrs_card(card_id, entry), current_datetime=now))


def stability(entry: ReviewEntry | None) -> float:
    """FSRS stability in days (how long until recall falls to 90 %); 0 for a card never reviewed."""
    if entry is None or entry.fsrs is None or entry.fsrs.get("stability") is None:
        return 0.0
    return float(entry.fsrs["stability"])


# --------------------------------------------------------------------------- the state on disk


def review_path(workspace: Workspace):  # noqa: ANN201 - pathlib.Path
    return workspace.root / REVIEW_FILE


def load_review_state(workspace: Workspace) -> ReviewState:
    """The saved review state, or an empty one.

    Raises:
        WorkspaceError: the file exists but cannot be read or is malformed.
    """
    found = read_learner_file(review_path(workspace), ReviewState, "the review history",
                              "restore it from a backup or delete it to start reviewing afresh.")
    return found if found is not None else ReviewState()


def update_review_state(workspace: Workspace, change: Callable[[ReviewState], ReviewState],
                        timeout: float = 10.0) -> ReviewState:
    """Read, change and save the review state under its lock (two sessions never lose each other's reviews)."""
    with learner_file_lock(workspace.root, REVIEW_LOCK, "the review history", timeout):
        state = change(load_review_state(workspace))
        atomic_write_json(review_path(workspace), state.model_dump(mode="json"))
    return state


# --------------------------------------------------------------------------- cards against the state


def sync_cards(state: ReviewState, cards: Sequence[Card], now: datetime) -> ReviewState:
    """The state lined up with the cards the notes produce now.

    A new card is added (never reviewed); a card still produced keeps its history (and comes back if it was
    retired); a card no longer produced is retired with its history.
    """
    entries = {k: v.model_copy() for k, v in state.cards.items()}
    current = {c.id for c in cards}
    for card in cards:
        old = entries.get(card.id)
        if old is None:
            entries[card.id] = ReviewEntry(concept=card.concept, kind=card.kind, front=card.front, added=_iso(now))
        else:
            entries[card.id] = old.model_copy(update={"concept": card.concept, "kind": card.kind,
                                                      "front": card.front, "retired": None})
    for card_id, entry in entries.items():
        if card_id not in current and entry.retired is None:
            entries[card_id] = entry.model_copy(update={"retired": _iso(now)})
    return ReviewState(cards=entries, log=list(state.log))


def sync_workspace(workspace: Workspace, cards: Sequence[Card], now: datetime | None = None) -> ReviewState:
    """Sync the saved state with the cards, saving only when something changed."""
    state = load_review_state(workspace)
    synced = sync_cards(state, cards, now or now_utc())
    if synced.model_dump() == state.model_dump():
        return state
    return update_review_state(workspace, lambda s: sync_cards(s, cards, now or now_utc()))


def is_due(entry: ReviewEntry | None, now: datetime) -> bool:
    due = due_at(entry)
    return due is not None and due <= now


def due_cards(cards: Iterable[Card], state: ReviewState, now: datetime, limit: int | None = None,
              new_limit: int | None = None, concept_ids: Iterable[str] | None = None) -> list[Card]:
    """Cards to review now: those due (most overdue first), then new ones in reading order.

    Args:
        cards: the current cards.
        state: the review state (synced with the cards).
        now: the moment of the session.
        limit: most cards in all.
        new_limit: most new cards.
        concept_ids: only cards about these concepts.
    """
    wanted = set(concept_ids) if concept_ids is not None else None
    pool = [c for c in cards if wanted is None or c.concept_id in wanted]
    due = sorted((c for c in pool if is_due(state.cards.get(c.id), now)),
                 key=lambda c: due_at(state.cards.get(c.id)))  # type: ignore[arg-type,return-value]
    new = [c for c in pool if status(state.cards.get(c.id)) == "new"]
    if new_limit is not None:
        new = new[:max(new_limit, 0)]
    chosen = due + new
    return chosen[:limit] if limit is not None else chosen


def count_due(cards: Iterable[Card], state: ReviewState, now: datetime) -> dict[str, int]:
    """{'due': cards due now, 'new': never reviewed, 'total': active cards}."""
    cards = list(cards)
    due = sum(is_due(state.cards.get(c.id), now) for c in cards)
    new = sum(status(state.cards.get(c.id)) == "new" for c in cards)
    return {"due": due, "new": new, "total": len(cards)}


def apply_review(state: ReviewState, card: Card, rating: int, now: datetime, scheduler: fsrs.Scheduler,
                 duration_ms: int | None = None) -> ReviewState:
    """The state after rating the card at `now` (Again=1, Hard=2, Good=3, Easy=4)."""
    from fsrs import Rating

    entries = dict(state.cards)
    entry = entries.get(card.id) or ReviewEntry(concept=card.concept, kind=card.kind, front=card.front,
                                                added=_iso(now))
    current = fsrs_card(card.id, entry)
    if entry.fsrs is None:
        current.due = now
    updated, _ = scheduler.review_card(current, Rating(rating), review_datetime=now)
    entries[card.id] = entry.model_copy(update={"fsrs": updated.to_dict(), "retired": None})
    log = [*state.log, ReviewLogEntry(card=card.id, rating=rating, at=_iso(now), duration_ms=duration_ms)]
    return ReviewState(cards=entries, log=log)


def record_review(workspace: Workspace, card: Card, rating: int, scheduler: fsrs.Scheduler,
                  now: datetime | None = None, duration_ms: int | None = None) -> ReviewEntry:
    """Rate a card and save it at once (under the lock); returns the card's new entry."""
    moment = now or now_utc()
    state = update_review_state(workspace, lambda s: apply_review(s, card, rating, moment, scheduler, duration_ms))
    return state.cards[card.id]


def introduced_today(state: ReviewState, now: datetime) -> int:
    """How many cards had their first review on `now`'s calendar day (local time): the new cards used up today."""
    first: dict[str, datetime] = {}
    for entry in state.log:
        first.setdefault(entry.card, datetime.fromisoformat(entry.at))
    today = now.astimezone().date()
    return sum(moment.astimezone().date() == today for moment in first.values())

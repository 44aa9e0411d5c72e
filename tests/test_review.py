"""FSRS scheduling of review cards: same due dates and states as the fsrs library driven directly, review state
kept in the workspace across re-ingests and rebuilds, edited passages keep or retire their cards."""

from __future__ import annotations

import shutil
import threading
from datetime import timedelta

import pytest

from conftest import SEED
from kg.cards import Card, generate_cards
from kg.review import (
    ReviewState,
    apply_review,
    build_scheduler,
    count_due,
    due_cards,
    load_review_state,
    parse_rating,
    record_review,
    retrievability,
    sync_cards,
    sync_workspace,
    update_review_state,
)
from learn_helpers import START, ingest_seed
from studygraph.records import SourceRef
from studygraph.settings import LearnSettings
from studygraph.workspace import Workspace


def _card(n: int, concept: str = "LoRA") -> Card:
    ref = SourceRef(chunk_id="c", source="n.md", heading_path=("H",), line_start=n, line_end=n)
    return Card(id=f"card-{n:016x}", kind="definition", concept=concept, concept_id=concept.lower(),
                front=f"q{n} [...]", back=f"a{n}", citation=ref, passage=f"a{n}")


LOG = [(timedelta(0), 3), (timedelta(minutes=10), 3), (timedelta(days=3), 2), (timedelta(days=9), 1),
       (timedelta(days=9, minutes=10), 3), (timedelta(days=14), 4), (timedelta(days=60), 3)]


@pytest.mark.parametrize("settings", [LearnSettings(fuzz=False),
                                      LearnSettings(fuzz=False, desired_retention=0.8,
                                                    learning_steps_minutes=[5.0], relearning_steps_minutes=[])])
def test_reviews_match_fsrs_driven_directly(settings: LearnSettings):
    from fsrs import Card as FsrsCard
    from fsrs import Rating, Scheduler

    card = _card(1)
    ours = ReviewState()
    direct_scheduler = Scheduler(desired_retention=settings.desired_retention,
                                 learning_steps=[timedelta(minutes=m) for m in settings.learning_steps_minutes],
                                 relearning_steps=[timedelta(minutes=m) for m in settings.relearning_steps_minutes],
                                 enable_fuzzing=False)
    direct = FsrsCard(due=START)
    for offset, rating in LOG:
        moment = START + offset
        ours = apply_review(ours, card, rating, moment, build_scheduler(settings))
        direct, _ = direct_scheduler.review_card(direct, Rating(rating), review_datetime=moment)
        got = ours.cards[card.id].fsrs
        assert got["due"] == direct.due.isoformat()
        assert got["state"] == direct.state.value
        assert got["stability"] == pytest.approx(direct.stability)
        assert got["difficulty"] == pytest.approx(direct.difficulty)
        later = moment + timedelta(days=2)
        assert retrievability(build_scheduler(settings), card.id, ours.cards[card.id], later) == pytest.approx(
            direct_scheduler.get_card_retrievability(direct, later))
    assert [e.rating for e in ours.log] == [r for _, r in LOG]


def test_due_new_and_limits():
    cards = [_card(n) for n in range(5)]
    scheduler = build_scheduler(LearnSettings(fuzz=False))
    state = sync_cards(ReviewState(), cards, START)
    assert count_due(cards, state, START) == {"due": 0, "new": 5, "total": 5}
    assert [c.id for c in due_cards(cards, state, START, new_limit=2)] == [cards[0].id, cards[1].id]
    state = apply_review(state, cards[3], 3, START, scheduler)  # learning: due again in 10 minutes
    later = START + timedelta(minutes=11)
    session = due_cards(cards, state, later, limit=3)
    assert session[0].id == cards[3].id and len(session) == 3  # due ones before new ones
    assert count_due(cards, state, later)["due"] == 1


def test_parse_rating():
    assert [parse_rating(x) for x in ("again", "H", "good", "e", "4")] == [1, 2, 3, 4, 4]
    with pytest.raises(Exception, match="Unknown rating"):
        parse_rating("maybe")


def test_sync_retires_and_revives_cards_with_their_history():
    a, b = _card(1), _card(2)
    scheduler = build_scheduler(LearnSettings(fuzz=False))
    state = apply_review(sync_cards(ReviewState(), [a, b], START), a, 3, START, scheduler)
    gone = sync_cards(state, [b], START + timedelta(days=1))
    assert gone.cards[a.id].retired and gone.cards[a.id].fsrs == state.cards[a.id].fsrs
    back = sync_cards(gone, [a, b], START + timedelta(days=2))
    assert back.cards[a.id].retired is None and back.cards[a.id].fsrs == state.cards[a.id].fsrs


def test_concurrent_sessions_lose_no_review(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    scheduler = build_scheduler(LearnSettings(fuzz=False))
    cards = [_card(n) for n in range(8)]
    threads = [threading.Thread(target=record_review, args=(workspace, c, 3, scheduler, START)) for c in cards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = load_review_state(workspace)
    assert sorted(e.card for e in state.log) == sorted(c.id for c in cards)


@pytest.fixture(scope="module")
def notes_ws(tmp_path_factory):
    """A copy of the seed in its own folder, ingested (fake embedder): (service, notes folder)."""
    root = tmp_path_factory.mktemp("review-edit")
    notes = root / "notes"
    notes.mkdir()
    shutil.copy(SEED, notes / SEED.name)
    return ingest_seed(root / "ws", [notes]), notes


def _by_front(cards, text):
    return next(c for c in cards if c.front.endswith(text))


def test_edit_keeps_unchanged_cards_retires_removed_and_survives_rebuild(notes_ws):
    from ingest.pipeline import ingest_paths

    service, notes = notes_ws
    cards = generate_cards(service.graph, service.chunks)
    sync_workspace(service.workspace, cards, START)
    scheduler = build_scheduler(service.settings.learn)
    kept = _by_front(cards, "列表（List）：[...]")
    edited = _by_front(cards, "字典（Dict）：[...]")
    removed = [c for c in cards if "隐私保护" in c.front]
    assert kept.back == "有序可修改集合" and edited.back == "键值对映射" and len(removed) == 3
    for card in (kept, edited, removed[0]):
        record_review(service.workspace, card, 3, scheduler, START)
    history = load_review_state(service.workspace).cards[kept.id].fsrs

    note = notes / SEED.name
    text = note.read_text(encoding="utf-8").replace("键值对映射", "键到值的映射")
    text = text.replace("**隐私保护**：\n- 差分隐私\n- 联邦学习\n- 同态加密\n", "")
    note.write_text(text, encoding="utf-8")
    ingest_paths([notes], service.settings, embedder=service.embedder)
    fresh = service.reopen()
    new_cards = generate_cards(fresh.graph, fresh.chunks)
    state = sync_workspace(fresh.workspace, new_cards, START + timedelta(days=1))
    ids = {c.id for c in new_cards}
    assert kept.id in ids and state.cards[kept.id].fsrs == history  # same card, same history
    assert edited.id not in ids and state.cards[edited.id].retired  # its answer changed: a new card
    assert _by_front(new_cards, "字典（Dict）：[...]").back == "键到值的映射"
    assert all(c.id not in ids and state.cards[c.id].retired for c in removed)

    ingest_paths([notes], service.settings, embedder=service.embedder, rebuild=True)
    rebuilt = service.reopen()
    again = generate_cards(rebuilt.graph, rebuilt.chunks)
    assert {c.id for c in again} == ids  # a rebuild changes nothing a card is made of
    assert load_review_state(rebuilt.workspace).cards[kept.id].fsrs == history


def test_state_file_is_json_beside_the_profile(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    update_review_state(workspace, lambda s: sync_cards(s, [_card(1)], START))
    assert (workspace.root / "review.json").is_file()
    assert not any(p.name.startswith("gen-") for p in workspace.root.iterdir())


def test_new_cards_a_day_count_first_reviews_of_today():
    from kg.review import introduced_today

    scheduler = build_scheduler(LearnSettings(fuzz=False))
    a, b = _card(1), _card(2)
    state = apply_review(ReviewState(), a, 3, START, scheduler)
    state = apply_review(state, a, 3, START + timedelta(minutes=10), scheduler)
    state = apply_review(state, b, 3, START + timedelta(minutes=20), scheduler)
    assert introduced_today(state, START + timedelta(minutes=30)) == 2
    assert introduced_today(state, START + timedelta(days=2)) == 0

"""Measured mastery: a simulated month of reviews moves concepts into mastery (and out again when forgotten),
and the study path skips what the reviews show the learner retains."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kg.cards import generate_cards
from kg.mastery import concept_mastery, known_names, measured_mastery
from kg.paths import next_frontier, plan_path, resolve_concepts
from kg.review import ReviewState, build_scheduler, sync_cards, update_review_state
from learn_helpers import START, ingest_seed, simulate


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    service = ingest_seed(tmp_path_factory.mktemp("mastery") / "ws")
    cards = generate_cards(service.graph, service.chunks)
    return service, cards


def _cards_of(service, cards, name):
    concept_id = service.resolver.resolve(name).concept_id
    found = [c for c in cards if c.concept_id == concept_id]
    assert found, name
    return concept_id, found


def test_a_month_of_good_reviews_makes_a_concept_known_and_failing_one_does_not(seed):
    service, cards = seed
    settings = service.settings.learn
    scheduler = build_scheduler(settings)
    linear, linear_cards = _cards_of(service, cards, "线性代数")
    prob, prob_cards = _cards_of(service, cards, "概率论与统计")
    state = sync_cards(ReviewState(), cards, START)
    state, end = simulate(state, linear_cards, scheduler, 30, lambda c: 3)
    state, _ = simulate(state, prob_cards, scheduler, 30, lambda c: 1)
    mastery = concept_mastery(cards, state, settings, end)
    assert mastery[linear].mastered and mastery[linear].retained == len(linear_cards)
    assert not mastery[prob].mastered and mastery[prob].reviewed == len(prob_cards)
    assert 0.9 <= mastery[linear].mean_retrievability <= 1.0
    # measured mastery fades: half a year without reviews and the month's work no longer counts
    assert not concept_mastery(cards, state, settings, end + timedelta(days=180))[linear].mastered


def test_one_cramming_session_is_not_mastery(seed):
    service, cards = seed
    settings = service.settings.learn
    linear, linear_cards = _cards_of(service, cards, "线性代数")
    state, end = simulate(sync_cards(ReviewState(), cards, START), linear_cards, build_scheduler(settings), 1,
                          lambda c: 3)
    assert not concept_mastery(cards, state, settings, end)[linear].mastered


def test_measured_mastery_changes_the_study_path_and_next(seed):
    service, cards = seed
    settings = service.settings.learn
    before = plan_path(service.graph, service.resolver, service.chunks, ["LoRA"])
    assert "线性代数" in [s.concept for s in before.steps]

    linear, linear_cards = _cards_of(service, cards, "线性代数")
    state, end = simulate(sync_cards(ReviewState(), cards, START), linear_cards, build_scheduler(settings), 30,
                          lambda c: 3)
    update_review_state(service.workspace, lambda _: state)
    mastery = measured_mastery(service.workspace, lambda: cards, settings, end)
    known, measured = known_names(["Python编程"], mastery)
    assert measured == ["线性代数"] and known == ["Python编程", "线性代数"]

    after = plan_path(service.graph, service.resolver, service.chunks, ["LoRA"], known=known)
    steps = [s.concept for s in after.steps]
    assert "线性代数" not in steps and "线性代数" in after.known
    assert steps == [s.concept for s in before.steps if s.concept != "线性代数"]

    ids = [c for _, c in resolve_concepts(service.resolver, known)[0]]
    ready = {i.concept for i in next_frontier(service.graph, ids, limit=200)}
    ready_before = {i.concept for i in next_frontier(service.graph, [], limit=200)}
    assert "线性代数" in ready_before and "线性代数" not in ready

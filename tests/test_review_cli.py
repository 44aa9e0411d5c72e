"""`studygraph review`, `cards`, `gaps` through the CLI runner on the seed, the Anki export read back as a deck,
and `path` counting what the reviews show is retained."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from kg.review import ReviewState, build_scheduler, load_review_state, sync_cards, update_review_state
from learn_helpers import EMBEDDER, ingest_seed, simulate
from ui.cli import app


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("review-cli") / "ws"
    ingest_seed(root)
    return root


@pytest.fixture
def ws(seed_root, clean_env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDYGRAPH_EMBEDDER__MODEL", EMBEDDER)
    (seed_root / "review.json").unlink(missing_ok=True)
    return seed_root


def run(ws, *args: str, stdin: str | None = None):
    return CliRunner().invoke(app, [*args, "--workspace", str(ws)], input=stdin)


def test_cards_json_lists_every_field(ws):
    result = run(ws, "cards", "--json")
    assert result.exit_code == 0, result.output
    cards = json.loads(result.stdout)
    assert len(cards) >= 150
    assert {"id", "kind", "front", "back", "concept", "citation", "due"} <= set(cards[0])
    assert cards[0]["due"] == "new" and cards[0]["citation"]["source"] == "ai-knowledge-system.md"
    bert = json.loads(run(ws, "cards", "--concept", "bert", "--json").stdout)
    assert bert and all(c["concept"] in ("BERT", "MLM", "NSP") for c in bert)
    assert run(ws, "cards", "--concept", "量子计算机理论").exit_code != 0


def test_review_session_rates_cards_and_the_due_count_falls(ws):
    result = run(ws, "review", "--limit", "3", stdin="\ng\n\nagain\n\ne\n")
    assert result.exit_code == 0, result.output
    assert "Reviewed 3 card(s)" in result.output and "source: ai-knowledge-system.md" in result.output
    from studygraph.workspace import Workspace

    state = load_review_state(Workspace(ws))
    assert [e.rating for e in state.log] == [3, 1, 4]
    cards = json.loads(run(ws, "cards", "--json").stdout)
    assert sum(c["due"] == "new" for c in cards) == len(cards) - 3
    quit_early = run(ws, "review", "--limit", "5", stdin="q\n")
    assert quit_early.exit_code == 0 and "Reviewed 0 card(s)" in quit_early.output


def test_gaps_json(ws):
    result = run(ws, "gaps", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["unexplained"] and report["missing_prerequisites"]
    gap = report["unexplained"][0]
    assert gap["named_in"][0]["line_start"] >= 1 and gap["kind"] == "unexplained"
    assert "Named but never explained" in run(ws, "gaps").output


def test_anki_export_is_a_valid_deck(ws, tmp_path):
    deck = tmp_path / "notes.apkg"
    result = run(ws, "cards", "--anki", str(deck))
    assert result.exit_code == 0, result.output
    count = len(json.loads(run(ws, "cards", "--json").stdout))
    with zipfile.ZipFile(deck) as archive:
        assert "collection.anki2" in archive.namelist()
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "c.anki2") as db:
        notes = db.execute("select flds from notes").fetchall()
        assert db.execute("select count(*) from cards").fetchone()[0] == count
    assert len(notes) == count
    assert any("ai-knowledge-system.md § 1.1 线性代数 (lines" in n[0] for n in notes)  # the citation on the back
    assert run(ws, "cards", "--anki", str(tmp_path / "deck.txt")).exit_code != 0


def test_path_skips_what_reviews_show_is_retained(ws):
    from assistant.service import StudyService
    from kg.cards import generate_cards
    from kg.review import now_utc
    from studygraph.settings import Settings
    from studygraph.workspace import Workspace

    service = StudyService(Settings(workspace=ws, embedder={"model": EMBEDDER}))
    cards = generate_cards(service.graph, service.chunks)
    linear = service.resolver.resolve("线性代数").concept_id
    mine = [c for c in cards if c.concept_id == linear]
    month_ago = now_utc() - timedelta(days=30)
    state, _ = simulate(sync_cards(ReviewState(), cards, month_ago), mine, build_scheduler(service.settings.learn),
                        29, lambda c: 3, start=month_ago)
    update_review_state(Workspace(ws), lambda _: state)
    result = run(ws, "path", "LoRA", "--json")
    steps = [s["concept"] for s in json.loads(result.stdout)["steps"]]
    assert "线性代数" not in steps and "Transformer" in steps
    assert "Known from your reviews: 线性代数" in run(ws, "path", "LoRA").output

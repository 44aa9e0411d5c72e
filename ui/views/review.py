"""Review page: cards from your notes, due by FSRS; show, reveal, rate; the source passage one click away;
measured mastery per concept; an Anki export."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from assistant.service import StudyService
from kg.cards import Card
from kg.review import RATINGS, build_scheduler, count_due, now_utc, record_review
from ui.commands.review import Deck, load_deck
from ui.views import render
from ui.views.state import get_service, shows_errors, workspace_ready

REVEALED = "review_revealed"
CONCEPT = "review_concept"
RATING_LABELS = {"again": "Again", "hard": "Hard", "good": "Good", "easy": "Easy"}


def _concept_choice(deck: Deck) -> list[str] | None:
    """A concept to practise (with its parts), or None for all."""
    graph = deck.service.graph
    with_cards = list(dict.fromkeys(c.concept_id for c in deck.cards if c.concept_id in graph))
    names = {cid: graph.concept(cid).name for cid in with_cards}
    choice = st.selectbox("Practise", [""] + with_cards, key=CONCEPT,
                          format_func=lambda cid: names.get(cid, "All concepts") if cid else "All concepts")
    if not choice:
        return None
    return [choice, *sorted(graph.parts_of(choice, transitive=True))]


def _rate(service: StudyService, card: Card, rating: int) -> None:
    """Button callback: save the rating, hide the answer (the next card shows on the rerun)."""
    record_review(service.workspace, card, rating, build_scheduler(service.settings.learn))
    st.session_state.pop(REVEALED, None)


def _passage(card: Card) -> None:
    ref = card.citation
    with st.expander(":material/menu_book: Source passage — "
                     + render.md_text(render.location(ref.source, ref.heading_path, ref.line_start, ref.line_end))):
        st.code(card.passage or "(empty)", language=None, wrap_lines=True)


def show_card(service: StudyService, card: Card, remaining: int) -> None:
    """The card: its question; after "Show answer", the answer, the passage and the four ratings."""
    with st.container(border=True):
        st.caption(render.md_text(f"{card.kind} · {card.concept} · {remaining} left in this session"))
        st.markdown(f"### {render.md_text(card.front)}")
        if st.session_state.get(REVEALED) != card.id:
            st.button("Show answer", key=f"reveal-{card.id}", type="primary", icon=":material/visibility:",
                      on_click=lambda: st.session_state.__setitem__(REVEALED, card.id))
            return
        st.markdown(f"**Answer:** {render.md_text(card.back)}")
        _passage(card)
        cols = st.columns(4)
        for col, (name, number) in zip(cols, RATINGS.items(), strict=True):
            col.button(RATING_LABELS[name], key=f"rate-{name}-{card.id}", width="stretch",
                       on_click=_rate, args=(service, card, number))


def show_mastery(deck: Deck) -> None:
    """Measured mastery of the concepts reviewed so far."""
    from kg.mastery import concept_mastery

    mastery = [m for m in concept_mastery(deck.cards, deck.state, deck.service.settings.learn).values() if m.reviewed]
    st.subheader("Measured mastery")
    learn = deck.service.settings.learn
    st.caption(f"A card is retained when FSRS predicts at least {learn.mastery_retrievability:.0%} recall and its "
               f"memory has lasted {learn.mastery_stability_days:g}+ days; a concept counts as known for study "
               f"paths when {learn.mastery_coverage:.0%} of its cards are retained.")
    if not mastery:
        st.caption("Nothing reviewed yet.")
        return
    rows = [{"concept": m.concept, "cards": m.cards, "reviewed": m.reviewed, "retained": m.retained,
             "recall now": round(m.mean_retrievability, 2), "known": "yes" if m.mastered else ""}
            for m in sorted(mastery, key=lambda m: (-m.retained, m.concept))]
    st.dataframe(rows, hide_index=True, width="stretch")


def _anki_bytes(cards: list[Card], deck_name: str) -> bytes:
    from kg.anki import export_anki

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "studygraph.apkg"
        export_anki(cards, path, deck_name)
        return path.read_bytes()


def main() -> None:
    """The page: what is due, the current card, mastery and export."""
    st.title("Review")
    with shows_errors():
        service = get_service()
        if not workspace_ready(service):
            return
        now = now_utc()
        deck = load_deck(service, now)
        concept_ids = _concept_choice(deck)
        session = deck.due(now, concept_ids=concept_ids)
        counts = count_due(deck.cards, deck.state, now)
        cols = st.columns(3)
        cols[0].metric("Due now", len(session))
        cols[1].metric("New cards", counts["new"])
        cols[2].metric("Cards from your notes", counts["total"])
        if session:
            show_card(service, session[0], len(session))
        else:
            st.success("Nothing due now. Come back later, or practise another concept.", icon=":material/done_all:")
        show_mastery(deck)
        if st.button("Prepare an Anki deck", icon=":material/download:"):
            st.download_button("Download studygraph.apkg", _anki_bytes(deck.cards, service.settings.learn.anki_deck),
                               file_name="studygraph.apkg", mime="application/octet-stream")


if __name__ == "__main__":
    main()

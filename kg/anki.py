"""Export review cards as an Anki deck (.apkg, with the `genanki` package): front, back, and the citation on
each card's back, so a card studied in Anki still points at the passage that answers it."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from kg.cards import Card
from studygraph.errors import import_optional
from studygraph.records import content_id

_HINT = "run `make install` (or `pip install genanki==0.13.1`)."
_CSS = ".card { font-family: sans-serif; font-size: 20px; text-align: left; } .where { color: #777; font-size: 14px; }"


def _stable_int(*parts: str) -> int:
    """A 31-bit id derived from text: the same deck and model ids on every export (Anki merges, not duplicates)."""
    return int(content_id(*parts, length=8), 16) & 0x7FFFFFFF


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def export_anki(cards: Sequence[Card], path: Path, deck_name: str = "studygraph") -> int:
    """Write the cards to an .apkg file; returns how many were written.

    Each note keeps the card's id as its guid, so re-importing an updated export updates the notes in Anki
    instead of adding copies.
    """
    genanki = import_optional("genanki", _HINT)
    model = genanki.Model(
        _stable_int("studygraph-model", "1"), "studygraph card",
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Citation"}, {"name": "Passage"}, {"name": "Concept"}],
        templates=[{
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": "{{FrontSide}}<hr id=answer>{{Back}}<div class=where>{{Citation}}<br>{{Concept}}</div>"
                    "<details><summary>passage</summary><pre>{{Passage}}</pre></details>",
        }],
        css=_CSS,
    )
    deck = genanki.Deck(_stable_int("studygraph-deck", deck_name), deck_name)
    for card in cards:
        deck.add_note(genanki.Note(
            model=model, guid=genanki.guid_for(card.id),
            fields=[_html(card.front), _html(card.back), _html(card.where), html.escape(card.passage),
                    _html(card.concept)],
            tags=[card.kind],
        ))
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(path))
    return len(cards)

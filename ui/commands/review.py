"""`studygraph review`, `studygraph cards` and `studygraph gaps`: practise the notes with spaced repetition, list
or export the cards, and see what the notes name but never explain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from studygraph.errors import InputError
from ui.cli_common import ConfigOpt, JsonOpt, WorkspaceOpt, command, console, print_json, settings_from

if TYPE_CHECKING:
    from assistant.service import StudyService
    from kg.cards import Card
    from kg.gaps import GapReport
    from kg.review import ReviewState

ConceptOpt = Annotated[str | None, typer.Option("--concept", help="Only cards about this concept (and its parts), "
                                                "by any name.")]
LimitOpt = Annotated[int | None, typer.Option("--limit", "-n", min=1,
                                              help="Most cards in the session (default: learn.session_limit).")]


@dataclass
class Deck:
    """The cards the notes produce now, with the review state synced to them."""

    service: StudyService
    cards: list[Card]
    state: ReviewState

    def due(self, now: datetime, limit: int | None = None, concept_ids: list[str] | None = None) -> list[Card]:
        from kg.review import due_cards, introduced_today

        learn = self.service.settings.learn
        new_limit = max(0, learn.new_per_session - introduced_today(self.state, now))
        return due_cards(self.cards, self.state, now, limit=limit or learn.session_limit, new_limit=new_limit,
                         concept_ids=concept_ids)


def load_deck(service: StudyService, now: datetime | None = None) -> Deck:
    """Generate the cards from the workspace and line the saved review state up with them."""
    from kg.review import sync_workspace

    cards = list(service.cards)
    if service.settings.learn.llm_questions:
        from assistant.cards_llm import question_cards

        cards += question_cards(service.llm, service.graph, service.chunks, service.workspace.root)
    return Deck(service, cards, sync_workspace(service.workspace, cards, now))


def concept_filter(service: StudyService, name: str | None) -> list[str] | None:
    """Ids of the named concept and its parts; None without a name.

    Raises:
        InputError: the name matches no concept (with suggestions).
    """
    if not name:
        return None
    res = service.resolver.resolve(name)
    if not res.concept_id:
        hint = ", ".join(res.suggestions[:5])
        raise InputError(f"'{name}' is not in your notes" + (f"; did you mean: {hint}?" if hint else "."))
    return [res.concept_id, *sorted(service.graph.parts_of(res.concept_id, transitive=True))]


def _service(config: Path | None, workspace: Path | None) -> StudyService:
    from assistant.service import StudyService

    return StudyService(settings_from(config, workspace))


# --------------------------------------------------------------------------- review


def _show(card: Card, number: int, total: int) -> None:
    console.print(Panel(escape(card.front), title=f"{number}/{total} · {card.kind} · {escape(card.concept)}",
                        title_align="left"), highlight=False)


def _reveal(card: Card) -> None:
    console.print(Panel(escape(card.back), title="answer", title_align="left", border_style="green"),
                  highlight=False)
    console.print(f"[dim]source: {escape(card.where)}[/]", highlight=False)


def _ask_rating() -> int | None:
    from kg.review import parse_rating

    while True:
        answer = typer.prompt("Rate: [a]gain [h]ard [g]ood [e]asy, [q]uit", default="g", show_default=True)
        if answer.strip().lower() in ("q", "quit"):
            return None
        try:
            return parse_rating(answer)
        except InputError as exc:
            console.print(f"[yellow]{escape(str(exc))}[/]", highlight=False)


def review_cmd(concept: ConceptOpt = None, limit: LimitOpt = None, workspace: WorkspaceOpt = None,
               config: ConfigOpt = None) -> None:
    """Review the cards due now in the terminal: show the question, reveal the answer, rate your recall."""
    from kg.review import build_scheduler, count_due, now_utc, record_review

    service = _service(config, workspace)
    now = now_utc()
    deck = load_deck(service, now)
    session = deck.due(now, limit, concept_filter(service, concept))
    if not session:
        counts = count_due(deck.cards, deck.state, now)
        console.print(f"Nothing due now ({counts['total']} cards). Come back later.", highlight=False)
        return
    scheduler = build_scheduler(service.settings.learn)
    done = 0
    for number, card in enumerate(session, 1):
        _show(card, number, len(session))
        reply = typer.prompt("Enter to reveal, q to quit", default="", show_default=False)
        if reply.strip().lower() in ("q", "quit"):
            break
        _reveal(card)
        rating = _ask_rating()
        if rating is None:
            break
        entry = record_review(service.workspace, card, rating, scheduler)
        console.print(f"[dim]next review: {entry.fsrs['due'][:16].replace('T', ' ')} UTC[/]", highlight=False)
        done += 1
    console.print(f"Reviewed {done} card(s).", highlight=False)


# --------------------------------------------------------------------------- cards


def _due_text(state: ReviewState, card: Card) -> str:
    from kg.review import due_at

    due = due_at(state.cards.get(card.id))
    return due.isoformat(timespec="minutes") if due else "new"


def cards_cmd(concept: ConceptOpt = None,
              anki: Annotated[Path | None, typer.Option("--anki", help="Export the cards to this Anki deck "
                                                        "(.apkg) instead of listing them.")] = None,
              workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List the review cards made from your notes (id, kind, front, back, concept, citation, due)."""
    service = _service(config, workspace)
    deck = load_deck(service)
    wanted = concept_filter(service, concept)
    cards = [c for c in deck.cards if wanted is None or c.concept_id in wanted]
    if anki is not None:
        from kg.anki import export_anki

        if anki.suffix.lower() != ".apkg":
            raise InputError(f"'{anki}' should end in .apkg (an Anki package).")
        count = export_anki(cards, anki, service.settings.learn.anki_deck)
        console.print(f"Wrote {count} cards to {escape(str(anki))}.", highlight=False)
        return
    if as_json:
        print_json([{**c.model_dump(mode="json"), "due": _due_text(deck.state, c)} for c in cards])
        return
    table = Table(title=f"{len(cards)} cards")
    for col in ("kind", "front", "back", "concept", "source", "due"):
        table.add_column(col, overflow="fold")
    for c in cards:
        table.add_row(c.kind, escape(c.front), escape(c.back), escape(c.concept), escape(c.where),
                      _due_text(deck.state, c))
    console.print(table)


# --------------------------------------------------------------------------- gaps


def _print_gaps(report: GapReport) -> None:
    def where(refs) -> str:  # noqa: ANN001 - tuple of SourceRef
        return "; ".join(f"{r.heading_path[-1] if r.heading_path else r.source}:{r.line_start}" for r in refs)

    table = Table(title=f"Named but never explained ({len(report.unexplained)})")
    for col in ("concept", "times named", "named in"):
        table.add_column(col, overflow="fold")
    for gap in report.unexplained:
        table.add_row(escape(gap.concept), str(gap.mentions), escape(where(gap.named_in)))
    console.print(table)
    table = Table(title=f"Prerequisites the notes never mention ({len(report.missing_prerequisites)})")
    for col in ("prerequisite", "needed by", "where that is named"):
        table.add_column(col, overflow="fold")
    for gap in report.missing_prerequisites:
        table.add_row(escape(gap.concept), escape(", ".join(gap.needed_by)), escape(where(gap.named_in)))
    console.print(table)


def gaps_cmd(workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """What your notes name but never explain, and well-known prerequisites they never mention."""
    from kg.gaps import find_gaps

    service = _service(config, workspace)
    report = find_gaps(service.graph, service.chunks, service.glossary)
    if as_json:
        print_json(report)
        return
    _print_gaps(report)


def register(app: typer.Typer) -> None:
    """Add `review`, `cards` and `gaps` to the CLI."""
    command(app, "review")(review_cmd)
    command(app, "cards")(cards_cmd)
    command(app, "gaps")(gaps_cmd)


def with_measured_mastery(service: StudyService, declared: list[str]) -> tuple[list[str], list[str]]:
    """Known names for paths and `next`: the declared ones plus the concepts your reviews show you retain.

    Returns:
        (all known names, the names known by measurement only).
    """
    from kg.mastery import measured_known

    return measured_known(service.workspace, lambda: service.cards, service.settings.learn, declared)

"""`studygraph path`, `studygraph next` and `studygraph profile ...`: study paths from the learner's profile."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from studygraph.errors import InputError, StudygraphError
from ui.cli_common import (
    ConfigOpt,
    JsonOpt,
    WorkspaceOpt,
    command,
    console,
    err_console,
    print_json,
    settings_from,
)
from ui.commands.review import with_measured_mastery

if TYPE_CHECKING:
    from assistant.service import StudyService
    from kg.profile import Profile
    from studygraph.records import StudyPath

KnownOpt = Annotated[list[str] | None, typer.Option(
    "--known", help="Concepts you know, comma-separated (default: your saved profile).")]
NotKnownOpt = Annotated[list[str] | None, typer.Option(
    "--not-known", help="Concepts you do not know even where --known implies them, comma-separated.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="'text' (steps with reasons and passages) or 'markdown' (a checklist).")]
NamesArg = Annotated[list[str], typer.Argument(help="Concept names, in either language, any alias.")]


def split_names(values: list[str] | None) -> list[str]:
    """Names from repeated and comma-separated options (ASCII or CJK commas)."""
    names: list[str] = []
    for value in values or []:
        names.extend(n.strip() for n in value.replace("，", ",").replace("、", ",").split(","))
    return [n for n in names if n]


def _service(config: Path | None, workspace: Path | None) -> StudyService:
    from assistant.service import StudyService

    return StudyService(settings_from(config, workspace))


def _warn_unresolved(service: StudyService, names: list[str], what: str) -> None:
    from kg.path_export import unknown_goal_text
    from kg.paths import resolve_concepts

    _, missing = resolve_concepts(service.resolver, names)
    for miss in missing:
        err_console.print(f"[yellow]Warning:[/] {escape(what)} {escape(unknown_goal_text(miss))} It is ignored.",
                          highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- rendering


def _print_path_text(path: StudyPath) -> None:
    from kg.path_export import unknown_goal_text
    from kg.paths import READING_ASSUMPTION

    for miss in path.unknown_goals:
        console.print(f"[yellow]{escape(unknown_goal_text(miss))}[/]", highlight=False)
    if not path.steps:
        return
    console.print(f"[bold]Study path to {escape(', '.join(g['concept'] for g in path.goals))}[/]: {len(path.steps)} "
                  f"steps, about {sum(s.minutes for s in path.steps):g} min of reading; {len(path.known)} known "
                  "concepts skipped.", highlight=False)
    stage = ""
    for n, step in enumerate(path.steps, 1):
        if step.stage != stage:
            stage = step.stage
            console.print(f"\n[bold underline]{stage}[/]")
        aliases = f" ({escape(', '.join(step.aliases[:2]))})" if step.aliases else ""
        console.print(f"{n:>3}. [bold]{escape(step.concept)}[/]{aliases} — {step.minutes:g} min", highlight=False)
        console.print(f"     why: {escape(step.reason)}", highlight=False)
        for ref in step.sources:
            heading = f" § {ref.heading_path[-1]}" if ref.heading_path else ""
            console.print(f"     read: {escape(ref.source)}:{ref.line_start}-{ref.line_end}{escape(heading)}",
                          highlight=False)
    console.print(f"\n[dim]Reading time assumes {READING_ASSUMPTION}.[/]", highlight=False)


# --------------------------------------------------------------------------- commands


def path_cmd(goals: Annotated[list[str] | None, typer.Argument(
                 help="Concepts to learn, by any name (default: your profile's goals).")] = None,
             known: KnownOpt = None, not_known: NotKnownOpt = None, fmt: FormatOpt = "text",
             workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Plan what to read, in what order and why, to learn GOAL from what you already know."""
    from kg.path_export import path_markdown
    from kg.paths import plan_path
    from kg.profile import load_profile

    if fmt not in ("text", "markdown"):
        raise InputError(f"Unknown --format '{fmt}': use 'text' or 'markdown' (or --json).")
    service = _service(config, workspace)
    profile = load_profile(service.workspace)
    goal_names = split_names(goals) or profile.goals
    if not goal_names:
        raise InputError("Name a goal (`studygraph path LoRA`) or save one (`studygraph profile goal LoRA`).")
    if known is None and not_known is None:
        known_names, not_known_names = profile.known, profile.not_known
        known_names, measured = with_measured_mastery(service, known_names)  # issue 15: reviews count as known
    else:
        known_names, not_known_names = split_names(known), split_names(not_known)
        measured = []
        _warn_unresolved(service, known_names + not_known_names, "known concept")
    path = plan_path(service.graph, service.resolver, service.chunks, goal_names, known_names, not_known_names)
    if as_json:
        print_json(path)
    elif fmt == "markdown":
        typer.echo(path_markdown(path), nl=False)
    else:
        _print_path_text(path)
        if measured:
            console.print(f"[dim]Known from your reviews: {escape(', '.join(measured))}[/]", highlight=False)
    if not path.goals and not as_json:
        raise typer.Exit(InputError.exit_code)


def next_cmd(goals: Annotated[list[str] | None, typer.Option(
                 "--goal", help="Goals to aim at (default: your profile's goals), comma-separated.")] = None,
             limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many to show.")] = 10,
             workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """What to learn next: concepts whose prerequisites you know, ranked by how many of your goals they unlock."""
    from kg.paths import next_frontier, resolve_concepts
    from kg.profile import load_profile

    service = _service(config, workspace)
    profile = load_profile(service.workspace)
    goal_names = split_names(goals) or profile.goals
    found_goals, _ = resolve_concepts(service.resolver, goal_names)
    known_ids, _ = resolve_concepts(service.resolver, with_measured_mastery(service, profile.known)[0])
    not_known_ids, _ = resolve_concepts(service.resolver, profile.not_known)
    items = next_frontier(service.graph, [c for _, c in known_ids], [c for _, c in found_goals], limit=limit,
                          not_known_ids=[c for _, c in not_known_ids])
    if as_json:
        print_json(items)
        return
    table = Table(title="Ready to learn next" + (f" (goals: {', '.join(goal_names)})" if goal_names else ""))
    for col in ("concept", "aliases", "unlocks goals", "enables"):
        table.add_column(col, overflow="fold")
    for item in items:
        table.add_row(escape(item.concept), escape(", ".join(item.aliases[:2])), escape(", ".join(item.unlocks)),
                      str(item.enables))
    console.print(table)


# --------------------------------------------------------------------------- profile


def _canonical(service: StudyService, names: list[str]) -> list[str]:
    """Concept names for what the user typed; an unknown name stops the command with suggestions."""
    from kg.path_export import unknown_goal_text
    from kg.paths import resolve_concepts

    found, missing = resolve_concepts(service.resolver, split_names(names))
    if missing:
        problems = " ".join(unknown_goal_text(m) for m in missing)
        raise InputError(f"{problems} Nothing was saved; see `studygraph concepts`.")
    return list(dict.fromkeys(service.graph.concept(cid).name for _, cid in found))


def _edit_profile(config: Path | None, workspace: Path | None, names: list[str], action: str, as_json: bool) -> None:
    from kg.profile import update_profile

    service = _service(config, workspace)
    if action == "drop":
        resolved = [service.graph.concept(c).name for _, c in _resolved(service, names)]
        targets = split_names(names) + resolved
    else:
        targets = _canonical(service, names)
    change = {"know": lambda p: p.know(targets), "unknow": lambda p: p.unknow(targets),
              "goal": lambda p: p.add_goals(targets), "drop": lambda p: p.drop(targets)}[action]
    profile = update_profile(service.workspace, change)
    _show_profile(service, profile, as_json)


def _resolved(service: StudyService, names: list[str]) -> list[tuple[str, str]]:
    from kg.paths import resolve_concepts

    return resolve_concepts(service.resolver, split_names(names))[0]


def _show_profile(service: StudyService, profile: Profile, as_json: bool) -> None:
    from kg.paths import known_closure

    try:
        implied: int | None = len(known_closure(service.graph, [c for _, c in _resolved(service, profile.known)],
                                                [c for _, c in _resolved(service, profile.not_known)]))
    except StudygraphError:  # no workspace yet: the profile is still worth showing
        implied = None
    if as_json:
        print_json({**profile.model_dump(mode="json"), "known_with_implied": implied})
        return
    for label, names in (("known", profile.known), ("not known", profile.not_known), ("goals", profile.goals)):
        console.print(f"[bold]{label}:[/] {escape(', '.join(names)) or '—'}", highlight=False)
    if implied is not None:
        console.print(f"{implied} concepts count as known (with their parts and prerequisites).", highlight=False)


def _profile_app() -> typer.Typer:
    profile_app = typer.Typer(name="profile", no_args_is_help=True,
                              help="Your learner profile: what you know, what you do not, and your goals.")

    def action_cmd(action: str, doc: str) -> None:
        def run(names: NamesArg, workspace: WorkspaceOpt = None, config: ConfigOpt = None,
                as_json: JsonOpt = False) -> None:
            _edit_profile(config, workspace, names, action, as_json)

        run.__doc__ = doc
        run.__name__ = f"profile_{action}"
        command(profile_app, action)(run)

    action_cmd("know", "Mark concepts as known (their parts and prerequisites count as known too).")
    action_cmd("unknow", "Mark concepts as not known, even where something you know implies them.")
    action_cmd("goal", "Add concepts to your goals (`studygraph path` and `studygraph next` use them).")
    action_cmd("drop", "Forget concepts everywhere in your profile (known, not known, goals).")

    @command(profile_app, "show")
    def show(workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
        """Show your profile."""
        from kg.profile import load_profile

        service = _service(config, workspace)
        _show_profile(service, load_profile(service.workspace), as_json)

    return profile_app


def register(app: typer.Typer) -> None:
    """Add `path`, `next` and the `profile` sub-commands to the CLI."""
    command(app, "path")(path_cmd)
    command(app, "next")(next_cmd)
    app.add_typer(_profile_app(), name="profile")

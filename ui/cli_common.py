"""Pieces every CLI command shares: the common options, settings at the edge, errors, JSON output."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from studygraph.errors import StudygraphError
from studygraph.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace directory (default: settings' workspace, data/workspace)."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Settings file (default: ./studygraph.toml if present).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]

console = Console()
err_console = Console(stderr=True)


def settings_from(config: Path | None, workspace: Path | None, **overrides: Any) -> Settings:
    """Build the settings once at the edge: file < STUDYGRAPH_* environment < command-line options."""
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if workspace is not None:
        values["workspace"] = workspace
    return load_settings(config=config, overrides=values)


def command(app: typer.Typer, *args: Any, **kwargs: Any) -> Callable[[F], F]:
    """Register a command whose expected failures print one message and exit non-zero, without a traceback."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            try:
                return fn(*a, **k)
            except StudygraphError as exc:
                err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None

        app.command(*args, **kwargs)(wrapper)
        return fn

    return decorate


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    return obj


def print_json(obj: Any, *, lines: bool = False) -> None:
    """Write JSON to stdout (one compact object a line with `lines`), never through rich's markup."""
    text = json.dumps(to_jsonable(obj), ensure_ascii=False, separators=(",", ":") if lines else None,
                      indent=None if lines else 2)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_rows(rows: Iterable[Sequence[object]]) -> None:
    """Write plain tab-separated rows to stdout (for pipes: `| head`, `| cut -f1`), one record a line.

    Tabs and line breaks inside a field become spaces, so a row is always one line. A reader that stops early
    (`head`) ends the output quietly.
    """
    try:
        for row in rows:
            sys.stdout.write("\t".join(" ".join(str(field).split()) for field in row) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the broken pipe again when it flushes stdout at exit; send the rest nowhere.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


STAGE_LABELS = {"read": "Reading notes", "embed": "Embedding passages", "tokenize": "Lexical index",
                "graph": "Concept graph"}
Progress = Callable[[str, int, int], None]


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress | None]:
    """A progress(stage, done, total) callback drawing one rich bar per stage on stderr.

    Yields None (no drawing at all) when disabled or when stderr is not a terminal, so logs, pipes and
    `--json` output stay clean.
    """
    if not (enabled and err_console.is_terminal):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bars

    tasks: dict[str, Any] = {}
    with Bars(TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
              console=err_console, transient=False) as bars:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(STAGE_LABELS.get(stage, stage), total=total or None)
            bars.update(tasks[stage], completed=done, total=total or None)

        yield update

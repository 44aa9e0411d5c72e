"""The `studygraph` command line: assembles the packages and renders their results (no logic of its own)."""

from __future__ import annotations

import logging
import os

import typer
from rich.table import Table

from studygraph import __version__
from studygraph.settings import describe_settings
from ui.cli_common import ConfigOpt, JsonOpt, WorkspaceOpt, command, console, print_json, settings_from

app = typer.Typer(
    name="studygraph",
    help="Study companion over your own notes: cited answers, a concept graph and study paths, all offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"studygraph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@command(app, "config")
def config_cmd(workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Print the effective settings and where each value came from."""
    settings = settings_from(config, workspace)
    rows = describe_settings(settings)
    if as_json:
        print_json({name: {"value": value, "origin": origin} for name, value, origin, _ in rows})
        return
    table = Table(title="studygraph settings", show_lines=False)
    for col in ("setting", "value", "from", "meaning"):
        table.add_column(col, overflow="fold")
    for name, value, origin, description in rows:
        table.add_row(name, repr(value) if isinstance(value, str) else str(value), origin, description)
    console.print(table)


def _register_feature_commands() -> None:
    # Each feature module adds its commands; they import heavy libraries only inside the commands.
    import importlib

    for module in ("ingest", "notes", "search", "graph", "path", "ask", "serve", "review"):
        importlib.import_module(f"ui.commands.{module}").register(app)


_register_feature_commands()


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()

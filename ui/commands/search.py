"""`studygraph search QUERY` and `studygraph eval retrieval --qa FILE`: find passages, measure retrieval."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from studygraph.errors import InputError
from ui.cli_common import ConfigOpt, JsonOpt, WorkspaceOpt, command, console, print_json, settings_from

if TYPE_CHECKING:
    from studygraph.records import Hit


class Mode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


def read_queries(path: Path) -> list[str]:
    """One query per non-blank line of a file ('-' reads standard input).

    Raises:
        InputError: the file cannot be read or holds no query.
    """
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the queries file {path}: {exc}.") from None
    queries = [line.strip() for line in text.splitlines() if line.strip()]
    if not queries:
        raise InputError(f"The queries file {path} holds no query (one per line).")
    return queries


def hit_json(hit: Hit) -> dict[str, Any]:
    """The JSON shape of a hit in `search --json`."""
    chunk = hit.chunk
    return {"rank": hit.rank, "chunk_id": chunk.id, "source": chunk.source, "heading_path": list(chunk.heading_path),
            "line_start": chunk.line_start, "line_end": chunk.line_end, "text": chunk.text, "score": hit.score,
            "scores": hit.scores}


def render_hits(query: str, hits: list[Hit]) -> None:
    table = Table(title=f"[bold]{escape(query)}[/]", title_justify="left", show_lines=True)
    for col, kw in (("#", {"justify": "right"}), ("score", {"justify": "right"}), ("where", {"overflow": "fold"}),
                    ("passage", {"overflow": "fold", "ratio": 3})):
        table.add_column(col, **kw)
    for hit in hits:
        c = hit.chunk
        where = f"{c.source}:{c.line_start}-{c.line_end}\n" + " > ".join(h for h in c.heading_path if h)
        snippet = c.text if len(c.text) <= 300 else c.text[:300] + "…"
        table.add_row(str(hit.rank), f"{hit.score:.3f}", escape(where), escape(snippet))  # note text, not markup
    if not hits:
        table.add_row("", "", "", "[dim]no passage matches[/]")
    console.print(table, highlight=False)


def render_eval(report: dict[str, Any], qa: Path) -> None:
    ks = report["ks"]
    table = Table(title=f"Retrieval on {qa.name} ({report['n']} questions)")
    table.add_column("mode")
    for k in ks:
        table.add_column(f"recall@{k}", justify="right")
    table.add_column("MRR", justify="right")
    rows = [(mode, m) for mode, m in report["modes"].items()]
    rows += [(f"{mode} ({lang})", m) for lang, by_mode in report["by_lang"].items() for mode, m in by_mode.items()]
    for name, m in rows:
        table.add_row(name, *(f"{m[f'recall@{k}']:.3f}" for k in ks), f"{m['mrr']:.3f}")
    console.print(table)


def eval_app(app: typer.Typer) -> typer.Typer:
    """The `eval` command group, created on first use (other features may add their own evaluations)."""
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            return group.typer_instance
    group = typer.Typer(help="Measure quality on question sets.", no_args_is_help=True)
    app.add_typer(group, name="eval")
    return group


def register(app: typer.Typer) -> None:
    @command(app, "search")
    def search_cmd(
        query: Annotated[str | None, typer.Argument(help="What to look for (a question or keywords).")] = None,
        k: Annotated[int | None, typer.Option("--k", min=1, max=100, help="Passages per query.")] = None,
        mode: Annotated[Mode | None, typer.Option("--mode", help="hybrid (default), dense or lexical.")] = None,
        queries: Annotated[Path | None, typer.Option("--queries", help="File with one query per line ('-': stdin).")]
        = None,
        workspace: WorkspaceOpt = None,
        config: ConfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Find the passages of your notes that answer a query (models load once for a --queries batch)."""
        from assistant.service import StudyService
        from retrieval.search import SearchParams

        if (query is None) == (queries is None):
            raise InputError("Give a QUERY or --queries FILE (one of them).")
        settings = settings_from(config, workspace)
        batch = read_queries(queries) if queries is not None else [query or ""]
        params = SearchParams(k=k or settings.retrieval.k, mode=(mode.value if mode else settings.retrieval.mode))
        results = StudyService(settings).searcher.search_many(batch, params)
        for text, hits in zip(batch, results, strict=True):
            if as_json:
                print_json({"query": text, "hits": [hit_json(h) for h in hits]}, lines=True)
            else:
                render_hits(text, hits)

    @command(eval_app(app), "retrieval")
    def eval_retrieval_cmd(
        qa: Annotated[Path, typer.Option("--qa", help="JSONL: {'q', 'heading' and/or 'quote', 'lang'?} a line.")],
        k: Annotated[str, typer.Option("--k", help="Recall cut-offs, comma-separated.")] = "1,5,10",
        workspace: WorkspaceOpt = None,
        config: ConfigOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Recall@k and MRR of dense, lexical and hybrid search on a question set with gold headings/quotes."""
        from assistant.service import StudyService
        from retrieval.evaluate import evaluate, load_qa, parse_ks
        from retrieval.search import SearchParams

        ks = parse_ks(k)
        items = load_qa(qa)
        searcher = StudyService(settings_from(config, workspace)).searcher
        report = evaluate(items, lambda qs, mode, depth: searcher.search_many(qs, SearchParams(k=depth, mode=mode)),
                          ks)
        if as_json:
            print_json(report)
        else:
            render_eval(report, qa)

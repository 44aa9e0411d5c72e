"""`studygraph ask QUESTION`: a cited answer from your notes, streamed to the terminal (or JSON)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

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

if TYPE_CHECKING:
    from studygraph.records import Answer, Citation

QuestionArg = Annotated[str, typer.Argument(help="Your question, in Chinese or English.")]
NoLLMOpt = Annotated[bool, typer.Option("--no-llm", help="Quote the best sentences of your notes; load no model.")]
KOpt = Annotated[int | None, typer.Option("--k", "-k", min=1, max=50, help="Passages to retrieve (default: settings).")]
ModeOpt = Annotated[str | None, typer.Option("--mode", help="Search mode: hybrid, dense or lexical.")]
MaxTokensOpt = Annotated[int | None, typer.Option("--max-tokens", min=1, help="Longest answer, in tokens.")]


def citation_json(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "chunk_id": c.chunk_id, "source": c.source, "heading_path": list(c.heading_path),
            "line_start": c.line_start, "line_end": c.line_end, "text": c.text, "supported": c.supported}


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `--json` shape of an answer."""
    return {
        "question": answer.question, "answer": answer.answer, "mode": answer.mode,
        "citations": [citation_json(c) for c in answer.citations], "model": answer.model,
        "seconds": answer.seconds, "unsupported": list(answer.unsupported),
        "nearest": [citation_json(c) for c in answer.nearest],
    }


def _where(c: Citation) -> str:
    heading = " > ".join(h for h in c.heading_path if h)
    return f"{c.source} § {heading} (lines {c.line_start}-{c.line_end})"


def render_answer(answer: Answer, streamed: bool) -> None:
    """Print an answer's text (unless it was streamed as is), its unsupported sentences and its sources."""
    from assistant.answer import mode_label
    from studygraph.text import language_of

    language = language_of(answer.question)
    if streamed:
        sys.stdout.write("\n")
    else:
        console.print(f"[bold]{mode_label(answer.mode, language)}[/]")
        console.print(escape(answer.answer), highlight=False, soft_wrap=True)
    for sentence in answer.unsupported:
        console.print(f"[yellow]  ! not supported by its source:[/] {escape(sentence)}", highlight=False)
    if answer.citations:
        console.print("\n[bold]Sources[/]")
        for c in answer.citations:
            mark = "" if c.supported else " [yellow](does not support the sentence citing it)[/]"
            console.print(f"  [{c.n}] {escape(_where(c))}{mark}", highlight=False, soft_wrap=True)
    if answer.nearest:
        console.print("\n[bold]Nearest passages[/]")
        for c in answer.nearest:
            snippet = " ".join(c.text.split())[:100]
            console.print(f"  - {escape(_where(c))}: {escape(snippet)}", highlight=False, soft_wrap=True)
    model = f", {answer.model}" if answer.model else ""
    console.print(f"[dim]{answer.mode}{model}, {answer.seconds:.1f}s[/]")


def register(app: typer.Typer) -> None:
    """Add `ask` to the CLI."""

    @command(app, "ask")
    def ask_cmd(question: QuestionArg, workspace: WorkspaceOpt = None, config: ConfigOpt = None,
                as_json: JsonOpt = False, no_llm: NoLLMOpt = False, k: KOpt = None, mode: ModeOpt = None,
                max_tokens: MaxTokensOpt = None) -> None:
        """Answer a question from your notes, citing the passages (file, heading, lines) it comes from."""
        from assistant.answer import AnswerParams
        from assistant.service import StudyService
        from studygraph.errors import InputError

        settings = settings_from(config, workspace)
        if mode is not None and mode not in ("hybrid", "dense", "lexical"):
            raise InputError(f"Unknown search mode '{mode}': use hybrid, dense or lexical.")
        params = AnswerParams(k=k or settings.retrieval.k, mode=mode or settings.retrieval.mode,  # type: ignore[arg-type]
                              max_tokens=max_tokens, use_llm=not no_llm)
        assistant = StudyService(settings).assistant
        if as_json:
            print_json(answer_json(assistant.ask(question, params)))
            return
        streamed = False
        for event in assistant.events(question, params):
            if event.kind == "token":
                sys.stdout.write(event.text)
                sys.stdout.flush()
                streamed = True
            elif event.kind == "discard":
                sys.stdout.write("\n")
                err_console.print(f"[yellow]The model's answer was set aside ({escape(event.text)}).[/]",
                                  highlight=False)
                streamed = False
            elif event.kind == "answer":
                render_answer(event.answer, streamed=streamed and event.answer.mode == "llm")

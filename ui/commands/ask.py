"""`studygraph ask QUESTION`: a cited answer from your notes, streamed to the terminal (or JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ui.cli_common import (
    ConfigOpt,
    JsonOpt,
    WorkspaceOpt,
    command,
    console,
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
QueriesOpt = Annotated[Path | None, typer.Option(
    "--queries", exists=True, dir_okay=False,
    help="A file of questions, one a line (or JSON lines with a 'q' field): each is answered in turn with the models "
    "loaded once; with --json, one JSON line per question.")]


def citation_json(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "chunk_id": c.chunk_id, "source": c.source, "heading_path": list(c.heading_path),
            "line_start": c.line_start, "line_end": c.line_end, "text": c.text, "supported": c.supported}


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `--json` shape of an answer."""
    return {
        "question": answer.question, "answer": answer.answer, "mode": answer.mode,
        "citations": [citation_json(c) for c in answer.citations], "model": answer.model,
        "seconds": answer.seconds, "unsupported": list(answer.unsupported), "checked": answer.checked,
        "nearest": [citation_json(c) for c in answer.nearest],
    }


def _where(c: Citation) -> str:
    heading = " > ".join(h for h in c.heading_path if h)
    return f"{c.source} § {heading} (lines {c.line_start}-{c.line_end})"


def render_answer(answer: Answer, streamed: bool) -> None:
    """Print an answer's text (unless its checked sentences were streamed), what was set aside, and its sources."""
    from assistant.answer import answer_label

    if not streamed:
        console.print(f"[bold]{answer_label(answer)}[/]")
        print_text(answer.answer)
    if streamed:
        console.print(f"[dim]{escape(answer_label(answer))}[/]")
    for sentence in answer.unsupported:
        console.print(f"[yellow]  ! set aside, not supported by the passage it cites:[/] {escape(sentence)}",
                      highlight=False)
    if answer.citations:
        console.print("\n[bold]Sources[/]")
        for c in answer.citations:
            console.print(f"  [{c.n}] {escape(_where(c))}", highlight=False, soft_wrap=True)
    if answer.nearest:
        title = "Where your notes name it" if answer.mode == "named_only" else "Nearest passages"
        console.print(f"\n[bold]{title}[/]")
        for c in answer.nearest:
            snippet = " ".join(c.text.split())[:100]
            console.print(f"  - {escape(_where(c))}: {escape(snippet)}", highlight=False, soft_wrap=True)
    model = f", {answer.model}" if answer.model else ""
    console.print(f"[dim]{answer.mode}{model}, {answer.seconds:.1f}s[/]")


def print_text(text: str) -> None:
    """Answer text on the terminal, quoted code blocks highlighted as code rather than shown as fences."""
    from rich.syntax import Syntax

    from assistant.text import code_segments

    segments = code_segments(text)
    for i, (kind, segment, language) in enumerate(segments):
        if kind == "code":
            console.print(Syntax(segment, language or "text", theme="ansi_dark", background_color="default"))
        else:
            last = i == len(segments) - 1
            console.print(escape(segment.strip("\n") if last else segment.rstrip("\n")), highlight=False,
                          soft_wrap=True)


def stream_answer(assistant: Any, question: str, params: Any) -> None:
    """Print checked sentences as they pass (never text that is then taken back), then the sources."""
    from studygraph.text import language_of

    streamed = False
    for event in assistant.events(question, params):
        if event.kind == "sentence":
            if not streamed:
                console.print("[bold]回答[/]" if language_of(question) == "zh" else "[bold]Answer[/]")
            print_text(event.text)
            streamed = True
        elif event.kind == "answer":
            render_answer(event.answer, streamed=streamed and _same_text(event.answer))


def _same_text(answer: Answer) -> bool:
    return answer.mode in ("llm", "extractive") and bool(answer.answer)


def read_queries(path: Path) -> list[str]:
    """Questions of a file: one a line, or JSON lines with a 'q' (or 'question') field; blank lines skipped."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            record = json.loads(line)
            line = str(record.get("q") or record.get("question") or "").strip()
        if line:
            questions.append(line)
    return questions


def register(app: typer.Typer) -> None:
    """Add `ask` to the CLI."""

    @command(app, "ask")
    def ask_cmd(question: Annotated[str | None, typer.Argument(help="Your question, in Chinese or English.")] = None,
                workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False,
                no_llm: NoLLMOpt = False, k: KOpt = None, mode: ModeOpt = None, max_tokens: MaxTokensOpt = None,
                queries: QueriesOpt = None) -> None:
        """Answer a question from your notes, citing the passages (file, heading, lines) it comes from."""
        from assistant.answer import AnswerParams
        from assistant.service import StudyService
        from studygraph.errors import InputError

        settings = settings_from(config, workspace)
        if mode is not None and mode not in ("hybrid", "dense", "lexical"):
            raise InputError(f"Unknown search mode '{mode}': use hybrid, dense or lexical.")
        if (question is None) == (queries is None):
            raise InputError("Give one question, or --queries FILE (not both).")
        params = AnswerParams(k=k or settings.retrieval.k, mode=mode or settings.retrieval.mode,  # type: ignore[arg-type]
                              max_tokens=max_tokens, use_llm=not no_llm)
        assistant = StudyService(settings).assistant
        questions = read_queries(queries) if queries is not None else [question or ""]
        for i, q in enumerate(questions):
            if as_json:
                print_json(answer_json(assistant.ask(q, params)), lines=queries is not None)
                continue
            if i:
                console.rule()
            if queries is not None:
                console.print(f"[bold cyan]{escape(q)}[/]")
            stream_answer(assistant, q, params)

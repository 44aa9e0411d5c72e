"""Generated markdown-ish input through decode, parse, chunk, ingest, search, ask, path and the CLI renderers.

Only expected failures (a StudygraphError with a message) may come out; anything else is a bug. Example
counts are moderate so the file runs in about a minute on two cores.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from conftest import FakeEmbedder
from ingest.decode.charset import decode_note
from ingest.markdown.chunking import split_chunks
from ingest.markdown.parse import note_lines, parse_note
from robust_helpers import check_consistent, copy_notes
from studygraph.errors import InputError, StudygraphError
from studygraph.settings import Settings

pytestmark = pytest.mark.slow  # hundreds of generated examples per test: about half a minute in all


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=12)
EMOJI = st.sampled_from(["🧠", "🚀", "👩‍💻", "🇨🇳", "❤️", "\U0001f600", "\u0301"])
CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\u200b", "\u202e",
                           "\ufeff", "\r", "\r\n", "\u2028", "\u0085", "\t"])
MARKUP = st.sampled_from([
    "LoRA", "Transformer", "attention", "BERT", "gradient descent", "矩阵", "注意力机制", "反向传播", "[CLS]", "[/]",
    "[bold]", "[link=file:///etc/passwd]x[/link]", "<script>alert(1)</script>", "$$x^2$$", "$a_b$", "`code`",
    "**bold**", "*em", "[link](http://x)", "![img](x.png)", "|", "\\", "---", "<!--", "-->", "&amp;", "{{x}}",
    "</source>", "<start_of_turn>", "[1]", "[^note]",
])
# Markup that rich would act on (style, link, closing tag) if a renderer parsed note text instead of printing it.
MARKUP_TAGS = ("[bold]", "[link=file:///etc/passwd]x[/link]", "[/]")
INLINE = st.lists(st.one_of(MARKUP, CJK, EMOJI, CONTROL, st.text(max_size=8)), max_size=8).map(" ".join)
LINE = st.one_of(
    INLINE,
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), INLINE),
    st.builds(lambda t: t + "\n" + "=" * 3, INLINE),
    st.sampled_from(["```", "```python", "~~~", "````", "$$", "---", "***", "", "", "+++"]),
    st.builds(lambda a, b: f"| {a} | {b} |", INLINE, INLINE),
    st.just("|---|:---:|"),
    st.builds(lambda d, t: "  " * d + "- " + t, st.integers(0, 40), INLINE),
    st.builds(lambda d, t: ">" * d + " " + t, st.integers(1, 40), INLINE),
    st.builds(lambda d, t: "1. " * d + t, st.integers(1, 200), INLINE),
    st.builds(lambda t: f"<div>{t}</div>", INLINE),
)
MARKDOWN = st.lists(LINE, max_size=40).map("\n".join)
NAMES = st.one_of(MARKUP, CJK, EMOJI.map(lambda e: e * 3), st.text(max_size=30), INLINE)


@cache
def _count_tokens():  # noqa: ANN202 - the embedder's token counter (no torch), loaded once
    from retrieval.embedders import load_token_counter

    return load_token_counter(Settings().embedder)


# --------------------------------------------------------------------------- decode, parse, chunk


@fuzz(200)
@given(data=st.one_of(st.binary(max_size=2000), MARKDOWN.map(lambda t: t.encode("utf-8", "surrogatepass")),
                      MARKDOWN.map(lambda t: t.encode("gb18030", "replace")),
                      MARKDOWN.map(lambda t: t.encode("utf-16"))))
@example(data=b"\xfe\xff\x00\x00")  # found by this test: UTF-16 text brought a NUL in
def test_decode_returns_text_or_says_why_not(data: bytes):
    try:
        decoded = decode_note(data)
    except InputError as exc:
        assert str(exc).strip()
        return
    assert isinstance(decoded.text, str) and "\x00" not in decoded.text
    decoded.text.encode("utf-8")  # no lone surrogates reach the workspace


@fuzz(150)
@given(text=MARKDOWN)
@example(text="LoRA LoRA LoRA LoRA LoRA LoRA LoRA LoRA\nLoRA LoRA LoRA LoRA 一一一一一一一一一一一一\n|  |  |\n"
              "LoRA LoRA LoRA [link=file:///etc/passwd]x[/link] \x00 \x00\n===")  # found: endless recursion
def test_parse_and_chunk_never_fail_and_cite_real_lines(text: str):
    note = parse_note(text, "fuzz.md")
    lines = note_lines(text)
    for section in note.sections:
        assert 1 <= section.line_start <= section.line_end <= max(1, len(lines)), section
    chunks = split_chunks(text, note.sections, _count_tokens(), 64, 8, blocks=note.blocks)
    assert len({c.id for c in chunks}) == len(chunks), "duplicate chunk ids"
    for chunk in chunks:
        assert chunk.text.strip(), "an empty chunk"
        assert 1 <= chunk.line_start <= chunk.line_end <= len(lines), (chunk.line_start, chunk.line_end, len(lines))


# --------------------------------------------------------------------------- the pipeline


@fuzz(12)
@given(texts=st.lists(MARKDOWN, min_size=1, max_size=3), names=st.lists(NAMES, min_size=3, max_size=3))
def test_ingest_of_generated_notes_never_fails_and_is_consistent(texts: list[str], names: list[str]):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "notes"
        folder.mkdir()
        written = 0
        for i, (text, name) in enumerate(zip(texts, names, strict=False)):
            stem = "".join(ch for ch in name if ch not in "/\x00")[:60] or "note"
            try:
                (folder / f"{i}-{stem}.md").write_bytes(text.encode("utf-8", "surrogatepass"))
                written += 1
            except OSError:  # a name this file system refuses is not the ingest's business
                continue
        assume(written)
        settings_ = Settings(workspace=Path(tmp) / "ws")
        try:
            report = _ingest([folder], settings_)
        except InputError as exc:  # everything empty or undecodable: one message
            assert "Nothing" in str(exc)
            return
        assert report.read + len(report.skipped) >= written
        check_consistent(settings_.workspace)


def _ingest(paths: list[Path], settings_: Settings):  # noqa: ANN202
    from ingest.pipeline import ingest_paths

    return ingest_paths(paths, settings_, FakeEmbedder(name=settings_.embedder.model))


# --------------------------------------------------------------------------- search, ask, path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from assistant.service import StudyService

    root = tmp_path_factory.mktemp("fuzz-ws")
    notes = copy_notes(root / "notes")
    settings_ = Settings(workspace=root / "ws")
    _ingest([notes], settings_)
    return StudyService(settings_, embedder=FakeEmbedder(name=settings_.embedder.model))


@fuzz(120)
@given(query=st.one_of(INLINE, MARKDOWN, CJK, st.text(max_size=300)),
       mode=st.sampled_from(["hybrid", "dense", "lexical"]), k=st.integers(1, 100))
def test_search_never_fails(service, query: str, mode: str, k: int):  # noqa: ANN001
    from retrieval.search import SearchParams

    try:
        hits = service.searcher.search(query, SearchParams(k=k, mode=mode))
    except StudygraphError as exc:
        assert str(exc).strip()
        return
    assert len(hits) <= k and all(h.chunk.id in service.chunks for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


@fuzz(60)
@given(question=st.one_of(INLINE, MARKDOWN, CJK))
def test_ask_without_a_model_never_fails(service, question: str):  # noqa: ANN001
    from assistant.answer import AnswerParams

    try:
        answer = service.assistant.ask(question, AnswerParams(use_llm=False))
    except StudygraphError as exc:
        assert str(exc).strip()
        return
    assert all(c.chunk_id in service.chunks for c in answer.citations)


@fuzz(80)
@given(goals=st.lists(NAMES, min_size=1, max_size=3), known=st.lists(NAMES, max_size=3))
def test_path_never_fails(service, goals: list[str], known: list[str]):  # noqa: ANN001
    from kg.paths import plan_path

    try:
        path = plan_path(service.graph, service.resolver, service.chunks, goals, known=known)
    except StudygraphError as exc:
        assert str(exc).strip()
        return
    steps = [s.concept for s in path.steps]
    assert len(steps) == len(set(steps)), "a concept twice in one path"


# --------------------------------------------------------------------------- what the CLI prints


@fuzz(100)
@given(text=st.one_of(INLINE, MARKDOWN), heading=INLINE, source=NAMES)
def test_cli_renderers_print_any_note_text_literally(text: str, heading: str, source: str):
    """Note text, headings and file names go through rich; markup in them is printed, never parsed."""
    import io
    from unittest import mock

    from rich.console import Console

    from ingest.pipeline import IngestReport
    from studygraph.records import Chunk, Hit
    from ui.commands import ingest as ingest_cmd
    from ui.commands import search as search_cmd

    assume(text.strip())
    chunk = Chunk(id="c1", source=source or "x.md", section_id="s1", heading_path=(heading,), line_start=1,
                  line_end=2, text=text)
    report = IngestReport(workspace=heading, skipped=[{"path": source, "reason": text}],
                          repaired=[{"path": text, "repair": heading}])

    def printed(module, render, *args) -> str:  # noqa: ANN001
        out = io.StringIO()  # wide enough that no cell folds a markup tag over two lines
        with mock.patch.object(module, "console", Console(file=out, width=2000)):
            render(*args)
        return out.getvalue()

    hits = printed(search_cmd, search_cmd.render_hits, text[:50], [Hit(rank=1, chunk=chunk, score=0.5, scores={})])
    summary = printed(ingest_cmd, ingest_cmd.render_report, report)
    for output, inputs in ((hits, (text[:50], text[:300], heading, source)), (summary, (text, heading, source))):
        for tag in MARKUP_TAGS:
            if any(tag in shown for shown in inputs):
                assert tag in output, f"{tag!r} was parsed as markup, not printed"

"""Cited answers: route, retrieve, decide whether the notes hold the answer, generate, verify, fall back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from assistant.extractive import extractive_answer
from assistant.llm import GenerationParams
from assistant.prompts import Prompt, build_prompt
from assistant.relevance import CorpusStats, Relevance, Thresholds, judge_relevance
from assistant.router import Route, route
from assistant.verify import citation_for, has_tail_loop, verify_answer
from studygraph.errors import InputError, StudygraphError
from studygraph.records import Answer, AnswerMode, Hit, SearchMode
from studygraph.text import language_of

if TYPE_CHECKING:
    from assistant.llm import LLM
    from assistant.service import StudyService

log = logging.getLogger(__name__)

NOT_FOUND_TEXT = {
    "zh": "你的笔记里没有找到这个问题的答案。下面是最接近的段落，供参考。",
    "en": "Your notes do not seem to answer this. The nearest passages are listed below.",
}
MODE_LABELS = {
    "llm": {"zh": "模型回答（引用已核对）", "en": "Model answer (citations checked)"},
    "extractive": {"zh": "摘录自你的笔记", "en": "Quoted from your notes"},
    "not_found": {"zh": "笔记中没有答案", "en": "Not in your notes"},
    "path": {"zh": "学习路径", "en": "Study path"},
}
EventKind = Literal["route", "hits", "prompt", "token", "discard", "answer"]


@dataclass(frozen=True)
class AnswerParams:
    """Per-call answer parameters (model and thresholds are settings).

    Attributes:
        k: passages retrieved and offered to the model.
        mode: search mode.
        max_tokens: largest answer in tokens (default: settings' llm.max_tokens).
        use_llm: False gives the extractive answer without loading a model.
        temperature: sampling temperature (default: settings' llm.temperature).
    """

    k: int = 5
    mode: SearchMode = "hybrid"
    max_tokens: int | None = None
    use_llm: bool = True
    temperature: float | None = None

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError(f"k must be at least 1 (got {self.k}).")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InputError(f"max_tokens must be at least 1 (got {self.max_tokens}).")


@dataclass(frozen=True)
class AnswerEvent:
    """A step of answering, for streaming UIs: tokens as they come, and what happened around them.

    Kinds: 'route' (text: 'answer' or 'path'), 'hits' (hits, relevance), 'prompt' (prompt), 'token' (text),
    'discard' (text: why the streamed text was replaced), 'answer' (answer, always last).
    """

    kind: EventKind
    text: str = ""
    hits: tuple[Hit, ...] = ()
    relevance: Relevance | None = None
    prompt: Prompt | None = None
    answer: Answer | None = None


def mode_label(mode: AnswerMode, language: str) -> str:
    """How an answer's mode is shown to the reader, in their language."""
    return MODE_LABELS[mode]["zh" if language == "zh" else "en"]


class Assistant:
    """Answers questions over one workspace with citations that our code resolves and checks."""

    def __init__(self, service: StudyService):
        self.service = service
        self.settings = service.settings

    @cached_property
    def stats(self) -> CorpusStats:
        """Word statistics of the workspace (computed once)."""
        return CorpusStats(self.service.chunks.values())

    def concepts_in(self, text: str) -> list[str]:
        """Concept ids the text names, or none when the workspace has no concept graph."""
        try:
            return list(self.service.resolver.find_in_text(text))
        except (StudygraphError, ImportError, FileNotFoundError) as exc:
            log.debug("no concept lookup: %s", exc)
            return []

    def ask(self, question: str, params: AnswerParams | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer a question from the notes.

        Args:
            question: the user's question, in Chinese or English.
            params: per-call parameters.
            on_token: called with each piece of model text as it is generated (the text may still be replaced
                by an extractive answer when it fails verification; the returned Answer is authoritative).

        Returns:
            The answer with its citations; mode 'llm', 'extractive', 'not_found' or 'path'.

        Raises:
            InputError: an empty question.
            ModelError: the model cannot be loaded (use `use_llm=False` to answer without one).
        """
        answer: Answer | None = None
        for event in self.events(question, params):
            if event.kind == "token" and on_token is not None:
                on_token(event.text)
            elif event.kind == "answer":
                answer = event.answer
        assert answer is not None
        return answer

    def events(self, question: str, params: AnswerParams | None = None) -> Iterator[AnswerEvent]:
        """The steps of answering a question, ending with an 'answer' event (see `AnswerEvent`)."""
        params = params or AnswerParams(k=self.settings.retrieval.k, mode=self.settings.retrieval.mode)
        question = (question or "").strip()
        if not question:
            raise InputError("The question is empty: type a question about your notes.")
        started = time.perf_counter()
        where = route(question, self.concepts_in)
        yield AnswerEvent("route", text=where.kind)
        if where.kind == "path":
            answer = self._path_answer(question, where)
            if answer is not None:
                yield AnswerEvent("answer", answer=_timed(answer, started))
                return
        from retrieval.search import SearchParams

        hits = tuple(self.service.searcher.search(question, SearchParams(k=params.k, mode=params.mode)))
        relevance = self.relevance(question, hits)
        yield AnswerEvent("hits", hits=hits, relevance=relevance)
        if not relevance.relevant:
            yield AnswerEvent("answer", answer=_timed(self._not_found(question, hits), started))
            return
        if not params.use_llm:
            yield AnswerEvent("answer", answer=_timed(self._extractive(question, hits), started))
            return
        for event in self._generate(question, hits, params):
            yield replace(event, answer=_timed(event.answer, started)) if event.answer else event

    # ------------------------------------------------------------------ steps

    def relevance(self, question: str, hits: tuple[Hit, ...]) -> Relevance:
        """The not-found signals and decision for a question and its retrieved passages."""
        s = self.settings.assistant
        thresholds = Thresholds(domain=s.domain_threshold, coverage=s.coverage_threshold,
                                dense=s.not_found_threshold, cjk_dense=s.cjk_not_found_threshold)
        return judge_relevance(question, hits, self.stats, self.concepts_in(question), thresholds)

    def _not_found(self, question: str, hits: tuple[Hit, ...]) -> Answer:
        language = language_of(question)
        if not hits:  # a fused ranking can come back empty; the nearest passages by meaning are still worth showing
            hits = self._nearest(question)
        nearest = tuple(citation_for(i, h.chunk, supported=False) for i, h in enumerate(hits[:3], start=1))
        return Answer(question=question, answer=NOT_FOUND_TEXT[language], mode="not_found", nearest=nearest)

    def _nearest(self, question: str) -> tuple[Hit, ...]:
        from retrieval.search import SearchParams

        try:
            return tuple(self.service.searcher.search(question, SearchParams(k=3, mode="dense")))
        except StudygraphError as exc:
            log.debug("no nearest passages: %s", exc)
            return ()

    def _extractive(self, question: str, hits: tuple[Hit, ...], model: str = "") -> Answer:
        text, citations = extractive_answer(question, [h.chunk for h in hits],
                                            max_units=self.settings.assistant.extractive_sentences,
                                            idf=self.stats.idf)
        if not citations:
            return self._not_found(question, hits)
        return Answer(question=question, answer=text, mode="extractive", citations=citations, model=model)

    def _prompt(self, question: str, hits: tuple[Hit, ...], llm: LLM, max_tokens: int) -> Prompt:
        kind = "chat" if llm.has_chat_template else "completion"
        budget = min(llm.n_ctx - max_tokens - 8, self.settings.assistant.max_prompt_tokens)
        return build_prompt(question, [h.chunk for h in hits], kind=kind, count_tokens=llm.count_tokens,
                            budget=budget)

    def _generation_params(self, params: AnswerParams, prompt: Prompt) -> GenerationParams:
        s = self.settings.llm
        return GenerationParams(
            max_tokens=params.max_tokens or s.max_tokens,
            temperature=s.temperature if params.temperature is None else params.temperature,
            repeat_penalty=s.repeat_penalty,
            stop=prompt.stop,
        )

    def _generate(self, question: str, hits: tuple[Hit, ...], params: AnswerParams) -> Iterator[AnswerEvent]:
        llm = self.service.llm
        max_tokens = params.max_tokens or self.settings.llm.max_tokens
        prompt = self._prompt(question, hits, llm, max_tokens)
        yield AnswerEvent("prompt", prompt=prompt)
        if not prompt.sources:
            log.warning("no source fits the model's context; answering extractively")
            yield AnswerEvent("answer", answer=self._extractive(question, hits, llm.name))
            return
        gen = self._generation_params(params, prompt)
        stream = llm.chat(prompt.messages, gen) if prompt.kind == "chat" else llm.complete(prompt.text, gen)
        pieces: list[str] = []
        if prompt.prefill:  # the start of the answer, written by the prompt (base models): part of the answer
            pieces.append(prompt.prefill)
            yield AnswerEvent("token", text=prompt.prefill)
        for piece in guard_loops(stream, pieces):
            yield AnswerEvent("token", text=piece)
        raw = "".join(pieces)
        check = verify_answer(raw, prompt, self.settings.assistant.support_threshold, question, self.stats.idf)
        if check.refused:
            yield AnswerEvent("discard", text="the model found no answer in the sources")
            yield AnswerEvent("answer", answer=replace_model(self._not_found(question, hits), llm.name))
        elif check.degenerate:
            yield AnswerEvent("discard", text=check.degenerate)
            yield AnswerEvent("answer", answer=self._extractive(question, hits, llm.name))
        else:
            yield AnswerEvent("answer", answer=Answer(
                question=question, answer=check.text, mode="llm", citations=check.citations,
                unsupported=check.unsupported, model=llm.name))

    def _path_answer(self, question: str, where: Route) -> Answer | None:
        from assistant.router import path_answer

        try:
            return path_answer(self.service, question, where.goals)
        except (StudygraphError, ImportError, FileNotFoundError) as exc:
            log.info("no study path (%s); answering from the notes", exc)
            return None


def guard_loops(stream: Iterator[str], sink: list[str], window: int = 400) -> Iterator[str]:
    """Pass pieces through (collecting them in `sink`) and stop the model when its text falls into a loop."""
    tail = ""
    try:
        for piece in stream:
            sink.append(piece)
            yield piece
            tail = (tail + piece)[-window:]
            if has_tail_loop(tail):
                log.info("generation stopped: repetition loop")
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def replace_model(answer: Answer, model: str) -> Answer:
    return answer.model_copy(update={"model": model})


def _timed(answer: Answer, started: float) -> Answer:
    return answer.model_copy(update={"seconds": round(time.perf_counter() - started, 3)})

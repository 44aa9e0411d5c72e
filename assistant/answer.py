"""Cited answers: route, retrieve, decide whether the notes hold the answer, select the evidence, let the model
compose from it, check every sentence, and say honestly what the notes hold."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from assistant.claims import load_lexicon, terms_in
from assistant.compose import Outcome, SentenceChecker, checked_sentences
from assistant.evidence import (
    Evidence,
    SelectionParams,
    asked_about,
    evidence_citation,
    named_not_explained,
    quoted_answer,
    select_evidence,
    titled,
    wants_code,
)
from assistant.llm import GenerationParams
from assistant.prompts import Prompt, build_evidence_prompt
from assistant.relevance import CorpusStats, Relevance, Thresholds, judge_relevance
from assistant.router import Route, route
from assistant.verify import citation_for, has_tail_loop, is_refusal
from studygraph.errors import InputError, StudygraphError
from studygraph.records import Answer, AnswerMode, Chunk, Hit, SearchMode
from studygraph.text import language_of

if TYPE_CHECKING:
    from assistant.llm import LLM
    from retrieval.embedders import Embedder
    from studygraph.settings import Settings

log = logging.getLogger(__name__)

NOT_FOUND_TEXT = {
    "zh": "你的笔记里没有找到这个问题的答案。下面是最接近的段落，供参考。",
    "en": "Your notes do not seem to answer this. The nearest passages are listed below.",
}
NAMED_ONLY_TEXT = {
    "zh": "你的笔记提到了 {term}，但没有解释它。下面是提到它的地方。",
    "en": "Your notes name {term} but do not explain it. Here is where they name it.",
}
MODE_LABELS = {
    "llm": {"zh": "模型回答（引用已核对）", "en": "Model answer (citations checked)"},
    "llm_partial": {"zh": "模型回答（部分句子换成了笔记原文）", "en": "Model answer (some sentences replaced by "
                    "quotes from your notes)"},
    "extractive": {"zh": "摘录自你的笔记", "en": "Quoted from your notes"},
    "not_found": {"zh": "笔记中没有答案", "en": "Not in your notes"},
    "named_only": {"zh": "笔记只提到，没有解释", "en": "Named in your notes, not explained"},
    "path": {"zh": "学习路径", "en": "Study path"},
}
EventKind = Literal["route", "hits", "prompt", "token", "sentence", "discard", "answer"]


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

    Kinds: 'route' (text: 'answer' or 'path'), 'hits' (hits, relevance), 'prompt' (prompt), 'token' (text: the
    model's draft, not yet checked), 'sentence' (text: a sentence that passed its check, or the quoted unit that
    replaces one; `quoted` tells which), 'discard' (text: why the model's text was set aside), 'answer' (answer,
    always last). A UI shows 'sentence' text as checked; 'token' text only as a marked draft, if at all.
    """

    kind: EventKind
    text: str = ""
    hits: tuple[Hit, ...] = ()
    relevance: Relevance | None = None
    prompt: Prompt | None = None
    answer: Answer | None = None
    quoted: bool = False


class AnswerSources(Protocol):
    """What the assistant needs of a workspace (StudyService provides it; tests provide fakes).

    `searcher.search(query, SearchParams)` returns hits best first; `resolver.find_in_text(text)` the ids of graph
    concepts a text names; `embedder` scores answer units by meaning; `llm` is loaded on first use.
    """

    settings: Settings

    @property
    def chunks(self) -> Mapping[str, Chunk]: ...

    @property
    def searcher(self) -> object: ...

    @property
    def resolver(self) -> object: ...

    @property
    def embedder(self) -> Embedder: ...

    @property
    def llm(self) -> LLM: ...


def mode_label(mode: AnswerMode | str, language: str) -> str:
    """How an answer's mode is shown to the reader, in their language."""
    return MODE_LABELS[mode]["zh" if language == "zh" else "en"]


def answer_label(answer: Answer) -> str:
    """The badge of an answer: 'checked' only when every sentence the model wrote passed its check."""
    language = language_of(answer.question)
    if answer.mode == "llm" and not answer.checked:
        return mode_label("llm_partial", language)
    return mode_label(answer.mode, language)


class Assistant:
    """Answers questions over one workspace with citations that our code resolves and checks."""

    def __init__(self, sources: AnswerSources):
        self.sources = sources
        self.settings = sources.settings

    @cached_property
    def stats(self) -> CorpusStats:
        """Word statistics of the workspace (computed once)."""
        return CorpusStats(self.sources.chunks.values())

    @cached_property
    def lexicon(self):  # noqa: ANN201 - assistant.claims.ClaimLexicon
        """The claim word lists, with the names of the user's own glossary when they have one (else the shipped
        glossary's, loaded on first use)."""
        glossary = getattr(self.sources, "glossary", None) if self.settings.graph.glossary else None
        return load_lexicon(self.settings.assistant.claims_file, glossary=glossary)

    def concepts_in(self, text: str) -> list[str]:
        """Concept ids the text names, or none when the workspace has no concept graph."""
        try:
            return list(self.sources.resolver.find_in_text(text))
        except (StudygraphError, FileNotFoundError) as exc:
            log.debug("no concept lookup: %s", exc)
            return []

    def vocabulary_in(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """Glossary concepts the text names, present in the notes or not (see `ConceptResolver.vocabulary_in`)."""
        try:
            return self.sources.resolver.vocabulary_in(text)
        except (StudygraphError, FileNotFoundError) as exc:
            log.debug("no vocabulary lookup: %s", exc)
            return []

    def ask(self, question: str, params: AnswerParams | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer a question from the notes.

        Args:
            question: the user's question, in Chinese or English.
            params: per-call parameters.
            on_token: called with each piece of model text as it is generated (a draft: the returned Answer holds
                only the sentences that passed their check).

        Returns:
            The answer with its citations; mode 'llm', 'extractive', 'not_found', 'named_only' or 'path'.

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

        hits = tuple(self.sources.searcher.search(question, SearchParams(k=params.k, mode=params.mode)))
        concepts = self.concepts_in(question)  # looked up once: relevance and selection both use them
        relevance = self.relevance(question, hits, concepts)
        yield AnswerEvent("hits", hits=hits, relevance=relevance)
        if not relevance.relevant:
            yield AnswerEvent("answer", answer=_timed(self._not_found(question, hits), started))
            return
        chunks = [h.chunk for h in hits]
        selection = self.select(question, chunks, concepts)
        named = self._named_only(question, chunks, concepts)
        if named is not None:
            yield AnswerEvent("answer", answer=_timed(named, started))
            return
        if not selection:
            yield AnswerEvent("answer", answer=_timed(self._not_found(question, hits), started))
            return
        if not params.use_llm:
            yield AnswerEvent("answer", answer=_timed(self._quoted(question, selection), started))
            return
        for event in self._compose(question, selection, params):
            yield replace(event, answer=_timed(event.answer, started)) if event.answer else event

    # ------------------------------------------------------------------ steps

    def relevance(self, question: str, hits: tuple[Hit, ...], concepts: Sequence[str] | None = None) -> Relevance:
        """The not-found signals and decision for a question and its retrieved passages (`concepts`: the ids of
        the graph concepts it names, when already looked up)."""
        s = self.settings.assistant
        thresholds = Thresholds(domain=s.domain_threshold, coverage=s.coverage_threshold,
                                dense=s.not_found_threshold, cjk_dense=s.cjk_not_found_threshold)
        concepts = self.concepts_in(question) if concepts is None else concepts
        return judge_relevance(question, hits, self.stats, concepts, thresholds,
                               known=self.vocabulary_in(question))

    def similarity(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """Cosine of the question with each text, by the workspace's embedder."""
        embedder = self.sources.embedder
        q = embedder.encode_queries([question])[0]
        return np.asarray(embedder.encode_documents(list(texts))) @ np.asarray(q)

    def select(self, question: str, chunks: Sequence[Chunk], concepts: Sequence[str] | None = None) -> list[Evidence]:
        """The answer units of the passages that answer the question (see `assistant.evidence`), covering the
        graph concepts it names (`concepts`: their ids, when already looked up)."""
        params = SelectionParams(max_units=self.settings.assistant.extractive_sentences)
        concepts = self.concepts_in(question) if concepts is None else concepts
        return select_evidence(question, chunks, self.stats.idf, named=self.concept_names(concepts),
                               similarity=self.similarity, params=params)

    def concept_names(self, concepts: Sequence[str]) -> list[str]:
        """The names, as the notes write them, of graph concepts ("残差连接", "BERT")."""
        names = []
        for concept_id in concepts:
            try:
                names.append(self.sources.resolver.graph.concept(concept_id).name)
            except (KeyError, AttributeError):
                continue
        return names

    def _not_found(self, question: str, hits: tuple[Hit, ...]) -> Answer:
        language = language_of(question)
        if not hits:  # a fused ranking can come back empty; the nearest passages by meaning are still worth showing
            hits = self._nearest(question)
        nearest = tuple(citation_for(i, h.chunk) for i, h in enumerate(hits[:3], start=1))
        return Answer(question=question, answer=NOT_FOUND_TEXT[language], mode="not_found", nearest=nearest)

    def _named_only(self, question: str, chunks: Sequence[Chunk], concepts: Sequence[str] = ()) -> Answer | None:
        """'Your notes name X but do not explain it': the question asks what X is or how it works, and the
        passages only name X (in a list, in brackets), never explain it. Judged over the question's technical
        terms and the graph concepts it names: "多层感知机用PyTorch怎么搭" is about 多层感知机, which the notes
        explain, whatever they say of PyTorch."""
        language = language_of(question)
        if not self.lexicon.asks_for_explanation(question):
            return None
        asked = () if wants_code(question) else asked_about(question)
        terms = list(dict.fromkeys([*terms_in(question, language), *self.concept_names(concepts)]))
        found = named_not_explained(terms, chunks, asked)
        if found is None:
            return None
        term, naming = found
        nearest = tuple(evidence_citation(n, e) for n, e in enumerate(naming, start=1))
        return Answer(question=question, answer=NAMED_ONLY_TEXT[language].format(term=term), mode="named_only",
                      nearest=nearest)

    def _nearest(self, question: str) -> tuple[Hit, ...]:
        from retrieval.search import SearchParams

        try:
            return tuple(self.sources.searcher.search(question, SearchParams(k=3, mode="dense")))
        except StudygraphError as exc:
            log.debug("no nearest passages: %s", exc)
            return ()

    def _quoted(self, question: str, selection: Sequence[Evidence], model: str = "") -> Answer:
        text, citations = quoted_answer(selection)
        return Answer(question=question, answer=text, mode="extractive", citations=citations, model=model)

    def _generation_params(self, params: AnswerParams, prompt: Prompt) -> GenerationParams:
        s = self.settings.llm
        return GenerationParams(
            max_tokens=params.max_tokens or s.max_tokens,
            temperature=s.temperature if params.temperature is None else params.temperature,
            repeat_penalty=s.repeat_penalty,
            stop=prompt.stop,
        )

    def _compose(self, question: str, selection: Sequence[Evidence], params: AnswerParams) -> Iterator[AnswerEvent]:
        llm = self.sources.llm
        facts = [(e.chunk, titled(e)) for e in selection]
        prompt = build_evidence_prompt(question, facts)
        yield AnswerEvent("prompt", prompt=prompt)
        checker = SentenceChecker(selection, prompt.language, self.stats.idf, self.lexicon, question,
                                  threshold=self.settings.assistant.support_threshold)
        gen = self._generation_params(params, prompt)
        stream = llm.chat(prompt.messages, gen) if llm.has_chat_template else llm.complete(prompt.text, gen)
        pieces: list[str] = []
        drafts: list[AnswerEvent] = []
        outcomes: list[Outcome] = []

        def drafted() -> Iterator[str]:
            for piece in guard_loops(stream, pieces):
                drafts.append(AnswerEvent("token", text=piece))
                yield piece

        for outcome in checked_sentences(drafted(), checker):
            yield from drafts
            drafts.clear()
            outcomes.append(outcome)
            if outcome.text:
                yield AnswerEvent("sentence", text=outcome.text, quoted=outcome.kind == "quote")
        yield from drafts
        if any(o.kind == "model" for o in outcomes):
            for outcome in checker.quotes_for_the_rest(outcomes):
                outcomes.append(outcome)
                yield AnswerEvent("sentence", text=outcome.text, quoted=True)
        yield AnswerEvent("answer", answer=self._composed(question, selection, outcomes, "".join(pieces), llm.name))

    def _composed(self, question: str, selection: Sequence[Evidence], outcomes: Sequence[Outcome], raw: str,
                  model: str) -> Answer:
        shown = [o for o in outcomes if o.text]
        passed = [o for o in outcomes if o.kind == "model"]
        if not passed:
            reason = "the model found no answer in the sources" if is_refusal(raw) else "no sentence passed"
            log.info("composed answer set aside (%s): %r", reason, raw[:200])
            return self._quoted(question, selection, model)
        cited = sorted({n for o in shown for n in o.cited})
        citations = tuple(evidence_citation(n, selection[n - 1]) for n in cited)
        unsupported = tuple(o.written for o in outcomes if o.kind == "dropped" and o.check is not None)
        mode: AnswerMode = "llm" if passed else "extractive"
        return Answer(question=question, answer="\n".join(o.text for o in shown) if _has_quote(shown)
                      else " ".join(o.text for o in shown), mode=mode, citations=citations,
                      unsupported=unsupported, model=model, checked=not unsupported and not _has_quote(shown))

    def _path_answer(self, question: str, where: Route) -> Answer | None:
        from assistant.router import path_answer

        try:
            return path_answer(self.sources, question, where.goals)
        except (StudygraphError, FileNotFoundError) as exc:
            log.info("no study path (%s); answering from the notes", exc)
            return None


def _has_quote(outcomes: Sequence[Outcome]) -> bool:
    return any(o.kind == "quote" for o in outcomes)


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

"""Routes a question: study-path requests ("我想学LoRA，应该先学什么") go to the path engine, the rest to answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from assistant.verify import citation_for
from studygraph.records import Answer, Citation
from studygraph.text import language_of

if TYPE_CHECKING:
    from assistant.service import StudyService

_PATH_INTENT = re.compile(
    r"(应该|需要|要)?先学(什么|哪些|啥)|先(学|看|掌握)(哪|什么)|学习(路径|路线|顺序|计划)|怎么学|如何学|怎样学"
    r"|从哪(里|儿)?(开始|入手|学起)|入门(路线|顺序|路径)|学.{0,12}(之前|以前)(要|需要|应该)?(先)?(学|掌握|了解)"
    r"|前置(知识|课程)(有哪些|是什么)?.{0,4}(学|路)"
    r"|\bhow\s+(should|do|can|would)\s+i\s+(start\s+)?(learn|study|approach|get\s+into)"
    r"|\b(learning|study)\s+(path|plan|roadmap|order)\b|\broadmap\b"
    r"|\bwhat\s+(should|do)\s+i\s+(learn|study|read|know)\s+(first|before)"
    r"|\bwhere\s+(should|do)\s+i\s+start\b|\bin\s+what\s+order\s+should\s+i\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Route:
    """Where a question goes; for 'path', the concept ids it names as goals."""

    kind: Literal["answer", "path"]
    goals: tuple[str, ...] = ()


def has_path_intent(question: str) -> bool:
    """Whether the question asks what to learn, in what order (either language)."""
    return bool(_PATH_INTENT.search(question))


def route(question: str, find_concepts: Callable[[str], Sequence[str]]) -> Route:
    """Send study-path requests that name a known concept to the path engine; everything else is answered.

    Args:
        question: the user's question.
        find_concepts: the graph resolver's `find_in_text` (concept ids named in a text, in order).

    Returns:
        The route; a path request naming no known concept is answered from the notes instead.
    """
    if not has_path_intent(question):
        return Route("answer")
    goals = tuple(dict.fromkeys(find_concepts(question)))
    return Route("path", goals) if goals else Route("answer")


_PATH_HEADER = {
    "zh": "学习{goals}的路径（共 {n} 步，按顺序学习）：",
    "en": "A study path to {goals} ({n} steps, in order):",
}
_STAGES_ZH = {"foundations": "基础", "core": "核心", "goal": "目标"}
_PATH_EMPTY = {
    "zh": "学习{goals}不需要先学别的内容（或你已经掌握了它的前置知识），可以直接阅读：",
    "en": "Nothing needs to come before {goals} (or you know its prerequisites already); read:",
}


def path_answer(service: StudyService, question: str, goal_ids: Sequence[str], sources_per_step: int = 2) -> Answer:
    """A study-path answer: the steps of `kg.paths.plan_path` to the goals, each with its passages cited.

    Args:
        service: the workspace facade (graph, resolver, chunks, workspace for the learner profile).
        question: the user's question (its language sets the wording).
        goal_ids: concept ids the question names.
        sources_per_step: passages cited at most per step.

    Returns:
        An Answer of mode 'path'.
    """
    from kg.paths import plan_path
    from kg.profile import load_profile

    graph = service.graph
    profile = load_profile(service.workspace)
    names = [graph.concept(c).name for c in goal_ids]
    path = plan_path(graph, service.resolver, service.chunks, names, profile.known, profile.not_known)
    language = language_of(question)
    goals = "、".join(names) if language == "zh" else ", ".join(names)
    citations: dict[str, Citation] = {}

    def cite(chunk_ids: Sequence[str]) -> str:
        marks = []
        for chunk_id in chunk_ids[:sources_per_step]:
            chunk = service.chunks.get(chunk_id)
            if chunk is None:
                continue
            if chunk_id not in citations:
                citations[chunk_id] = citation_for(len(citations) + 1, chunk)
            marks.append(f"[{citations[chunk_id].n}]")
        return "".join(marks)

    if not path.steps:
        goal_chunks = [cid for c in goal_ids for cid in graph.concept(c).chunks]
        text = _PATH_EMPTY[language].format(goals=goals) + " " + cite(goal_chunks)
    else:
        lines = [_PATH_HEADER[language].format(goals=goals, n=len(path.steps))]
        for i, step in enumerate(path.steps, start=1):
            marks = cite([s.chunk_id for s in step.sources])
            if language == "zh":
                stage = _STAGES_ZH.get(step.stage, step.stage)
                lines.append(f"{i}. {step.concept}（{stage}）：{step.reason} {marks}".rstrip())
            else:
                lines.append(f"{i}. {step.concept} ({step.stage}): {step.reason} {marks}".rstrip())
        text = "\n".join(lines)
    return Answer(question=question, answer=text, mode="path", citations=tuple(citations.values()))

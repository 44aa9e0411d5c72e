"""Personalized study paths and the next frontier, computed on the concept graph from goals and what is known."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
from pydantic import BaseModel, ConfigDict

from kg.graph import ConceptGraph
from kg.names import normalize_name
from kg.reading import READING_ASSUMPTION, concept_sources, reading_minutes, source_ref
from studygraph.records import Chunk, Concept, Edge, StudyPath, StudyStep

if TYPE_CHECKING:
    from kg.resolve import ConceptResolver

log = logging.getLogger(__name__)
__all__ = ["READING_ASSUMPTION", "FrontierItem", "build_plan", "known_closure", "next_frontier", "plan_path",
           "reading_minutes", "resolve_concepts"]

# Edge types read as "learn the source before the target" (a tool used in X is useful before X).
DEPENDENCY_TYPES = ("prerequisite", "used_in")
# A goal inherits the prerequisites of the wholes it sits in, this many part_of levels up, stopping at chapters.
CONTEXT_LEVELS = 3
# A whole with more parts than this is an area (a chapter, the notes' root), never a source of context.
AREA_PARTS = 40
STAGES = ("foundations", "core", "goal")

# Which link explains a step best, when a concept comes before several others.
_KIND_RANK = {"goal": 0, "prerequisite": 1, "part": 2, "used_in": 3, "context": 4, "whole": 5}


class FrontierItem(BaseModel):
    """A concept ready to learn now: everything it needs is known."""

    model_config = ConfigDict(frozen=True)

    concept_id: str
    concept: str
    aliases: tuple[str, ...] = ()
    unlocks: tuple[str, ...] = ()
    enables: int = 0
    importance: float = 0.0


@dataclass
class _Link:
    """Why `source` comes before `target` in a plan."""

    kind: str
    edge: Edge | None = None
    via: str | None = None


@dataclass
class _Plan:
    dag: nx.DiGraph = field(default_factory=nx.DiGraph)
    goals: list[str] = field(default_factory=list)
    parts: set[str] = field(default_factory=set, repr=False)  # parts of the goals: learning a goal means them too


# --------------------------------------------------------------------------- names


def resolve_concepts(resolver: ConceptResolver, names: Iterable[str]) -> tuple[list[tuple[str, str]], list[dict]]:
    """Resolve names (any alias, either language, fuzzy) to concept ids.

    Returns:
        ([(query, concept_id)], [{"query", "suggestions"}]) for the names found and the names not found.
    """
    found: list[tuple[str, str]] = []
    missing: list[dict] = []
    for name in names:
        query = name.strip()
        if not query:
            continue
        res = resolver.resolve(query)
        if res.concept_id:
            found.append((query, res.concept_id))
        else:
            missing.append({"query": query, "suggestions": list(res.suggestions)})
    return found, missing


# --------------------------------------------------------------------------- what is known


def dependencies_of(graph: ConceptGraph, concept_id: str) -> list[Edge]:
    """Edges into the concept that say what to learn first: its prerequisites and the tools used in it."""
    return [e for t in DEPENDENCY_TYPES for e in graph.in_edges(concept_id, t)]


def known_closure(graph: ConceptGraph, known_ids: Iterable[str], not_known_ids: Iterable[str] = ()) -> set[str]:
    """Everything a learner knows, given what they say they know.

    Knowing a concept covers its parts (transitively), its prerequisites (transitively) and the tools used in
    those; parts of a prerequisite are not implied. A concept marked not known, and its parts, are excluded unless named as known.
    """
    explicit = {c for c in known_ids if c in graph}
    not_known = {c for c in not_known_ids if c in graph}
    explicit -= not_known
    blocked = set(not_known)
    for concept_id in not_known:
        blocked |= graph.parts_of(concept_id, transitive=True)
    blocked -= explicit
    with_parts = _reach(explicit, lambda c: (e.source for e in graph.in_edges(c, "part_of")), blocked)
    learned = _reach(with_parts, lambda c: (e.source for e in graph.in_edges(c, "prerequisite")), blocked)
    return learned | ({e.source for c in learned for e in graph.in_edges(c, "used_in")} - blocked)


def _reach(start: set[str], step: Any, blocked: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        node = stack.pop()
        if node in seen or (node in blocked and node not in start):
            continue
        seen.add(node)
        stack.extend(step(node))
    return seen


# --------------------------------------------------------------------------- the plan as a DAG


def _is_area(graph: ConceptGraph, concept: Concept) -> bool:
    """A chapter or the notes' root: too broad to hand its prerequisites down to one of its parts."""
    if concept.chapter and concept.chapter == concept.name:
        return True
    if not graph.in_edges(concept.id, "part_of"):
        return False
    has_whole = bool(graph.out_edges(concept.id, "part_of"))
    return not has_whole or len(graph.parts_of(concept.id, transitive=True)) > AREA_PARTS


def _wholes(graph: ConceptGraph, concept_id: str) -> list[str]:
    """The wholes a concept is taught in: nearest first, up to CONTEXT_LEVELS, in its own chapter, never an area.

    A concept also listed elsewhere (Python编程 as an item of 技能要求) is not taught there: other chapters are out.
    """
    chapter = graph.concept(concept_id).chapter
    found: list[str] = []
    level = [concept_id]
    for _ in range(CONTEXT_LEVELS):
        level = [e.target for node in level for e in graph.out_edges(node, "part_of")
                 if e.target not in found and graph.concept(e.target).chapter == chapter
                 and not _is_area(graph, graph.concept(e.target))]
        found.extend(dict.fromkeys(level))
        if not level:
            break
    return [w for w in found if w != concept_id]


def _add(dag: nx.DiGraph, source: str, target: str, link: _Link) -> None:
    if source == target:
        return
    old = dag.get_edge_data(source, target)
    if old is None or _KIND_RANK[link.kind] < _KIND_RANK[old["link"].kind]:
        dag.add_edge(source, target, link=link)


def build_plan(graph: ConceptGraph, goal_ids: Sequence[str], known: set[str]) -> _Plan:
    """What to learn for the goals: goals, their unknown parts, and every unknown prerequisite upstream.

    Dependencies are followed upstream only, and never through a known concept. The tools used in a concept
    on the path join it with their prerequisites, but not with the tools used in them (no chains of tools).
    Parts are expanded for the goals alone; the wholes around a goal hand down only their own dependencies,
    so a path never wanders into a whole's other parts.
    """
    plan = _Plan(goals=list(dict.fromkeys(g for g in goal_ids if g in graph)))
    plan.dag.add_nodes_from(plan.goals)
    queue: list = list(plan.goals)
    for goal in plan.goals:
        queue += _add_goal_parts(graph, plan, goal, known)
        for whole in _wholes(graph, goal):
            for edge in dependencies_of(graph, whole):
                if edge.source not in known and edge.source != whole:
                    _add(plan.dag, edge.source, goal, _Link("context", edge, via=whole))
                    queue.append((edge.source, edge.type == "used_in"))
    queue += _start_from_wholes(graph, plan, known)
    _expand(graph, plan, [(node, False) for node in queue], known)
    for node in list(plan.dag.nodes):  # order every pair on the path, however each one came in
        for edge in dependencies_of(graph, node):
            if edge.source in plan.dag and not plan.dag.has_edge(edge.source, node):
                _add(plan.dag, edge.source, node, _Link(edge.type, edge))
    _break_cycles(plan.dag)
    on_the_way = set(plan.goals).union(*(nx.ancestors(plan.dag, g) for g in plan.goals))
    plan.dag.remove_nodes_from([n for n in list(plan.dag.nodes) if n not in on_the_way])
    return plan


def teaching_whole(graph: ConceptGraph, concept_id: str) -> str | None:
    """Where a concept is taught: the whole its notes define it in, else the chapter it is first met in."""
    for edge in sorted(graph.out_edges(concept_id, "part_of"), key=lambda e: -e.weight):
        return edge.target
    chapter = normalize_name(graph.concept(concept_id).chapter)
    if not chapter:
        return None
    named = next((c.id for c in graph.concepts if c.id != concept_id
                  and chapter in {normalize_name(n) for n in (c.name, *c.aliases)}), None)
    if named is None:  # a chapter that names several concepts ("注意力机制与Transformer"): the first of them
        named = next((c.id for c in graph.concepts if c.id != concept_id and c.order < graph.concept(concept_id).order
                      and len(normalize_name(c.name)) >= 2 and normalize_name(c.name) in chapter), None)
    return named


def _start_from_wholes(graph: ConceptGraph, plan: _Plan, known: set[str]) -> list[str]:
    """A goal nothing leads to is learned after the whole it is taught in (the section or chapter around it),
    and after what that whole builds on: "Python编程 -> 列表" rather than "列表" alone."""
    added = []
    for goal in plan.goals:
        if any(True for _ in plan.dag.predecessors(goal)) or dependencies_of(graph, goal):
            continue
        whole = teaching_whole(graph, goal)
        if whole is not None and whole not in known and whole not in plan.goals:
            _add(plan.dag, whole, goal, _Link("whole", graph.edge(goal, whole, "part_of"), via=whole))
            added.append(whole)
    return added


def _expand(graph: ConceptGraph, plan: _Plan, queue: list[tuple[str, bool]], known: set[str]) -> None:
    """Add the unknown dependencies upstream of the queued concepts; a tool brings its prerequisites, not its tools."""
    expanded: dict[str, bool] = {}
    while queue:
        node, as_tool = queue.pop()
        if node in expanded and (expanded[node] is False or as_tool):
            continue
        expanded[node] = as_tool
        for edge in dependencies_of(graph, node):
            if edge.source not in known and not (as_tool and edge.type == "used_in"):
                _add(plan.dag, edge.source, node, _Link(edge.type, edge))
                queue.append((edge.source, edge.type == "used_in"))


def _add_goal_parts(graph: ConceptGraph, plan: _Plan, goal: str, known: set[str]) -> list[str]:
    """Link the goal's unknown parts into the plan (learning a whole means learning its parts); returns them."""
    # A part that builds on its own whole (自注意力 inside 注意力机制) comes after the goal: not on the way to it.
    later = graph.parts_of(goal, transitive=True) & _builds_on(graph, goal)
    later = later.union(*(graph.parts_of(p, transitive=True) for p in later))
    parts = graph.parts_of(goal, transitive=True) - known - later
    plan.parts |= parts
    for part in sorted(parts):
        for edge in graph.out_edges(part, "part_of"):
            if edge.target == goal or edge.target in parts:
                _add(plan.dag, part, edge.target, _Link("part", edge))
        if not plan.dag.has_node(part) or not plan.dag.out_degree(part):
            _add(plan.dag, part, goal, _Link("part"))  # its own whole is known: it still belongs to the goal
    return sorted(parts)


def _builds_on(graph: ConceptGraph, concept_id: str) -> set[str]:
    """Concepts downstream of this one: they depend on it, directly or transitively."""
    return _reach({concept_id}, lambda c: (e.target for t in DEPENDENCY_TYPES for e in graph.out_edges(c, t)),
                  set()) - {concept_id}


def _break_cycles(dag: nx.DiGraph) -> None:
    """Drop the weakest link of each cycle (context before tools before parts before prerequisites)."""
    while True:
        try:
            cycle = nx.find_cycle(dag)
        except nx.NetworkXNoCycle:
            return

        def strength(uv: tuple[str, str]) -> tuple[int, float, str, str]:
            link = dag.edges[uv]["link"]
            return (-_KIND_RANK[link.kind], link.edge.weight if link.edge else 0.0, uv[0], uv[1])

        weakest = min(((u, v) for u, v, *_ in cycle), key=strength)
        log.info("study path: dropped %s -> %s to break a cycle", *weakest)
        dag.remove_edge(*weakest)


def _stage(plan: _Plan, node: str) -> str:
    """'goal' for goals and their parts; 'foundations' when nothing on the path comes before it; else 'core'."""
    if node in plan.goals or node in plan.parts:
        return "goal"
    return "core" if plan.dag.in_degree(node) else "foundations"


def _ordered(graph: ConceptGraph, plan: _Plan) -> list[str]:
    """Topological order; ties go to the earlier stage, then to the notes' own order, then to importance."""
    def key(node: str) -> tuple[int, int, float, str]:
        concept = graph.concept(node)
        return (STAGES.index(_stage(plan, node)), concept.order, -concept.importance, node)

    return list(nx.lexicographical_topological_sort(plan.dag, key=key))


# --------------------------------------------------------------------------- steps


def _evidence_text(edge: Edge | None, chunks: Mapping[str, Chunk]) -> str:
    if edge is None or not edge.evidence:
        return ""
    ev = next((e for e in edge.evidence if e.chunk_id in chunks), edge.evidence[0])
    chunk = chunks.get(ev.chunk_id)
    where = ""
    if chunk is not None:
        heading = " > ".join(h for h in chunk.heading_path[-2:] if h) or chunk.source
        where = f"{heading} (lines {chunk.line_start}–{chunk.line_end})"
    detail = " ".join(ev.detail.split())
    if detail:
        where += f" “{detail[:80]}{'…' if len(detail) > 80 else ''}”"
    return f": {where.strip()} [{ev.rule}]" if where else f" [{ev.rule}]"


def _link_text(graph: ConceptGraph, source: str, target: str, link: _Link, chunks: Mapping[str, Chunk]) -> str:
    s, t = graph.concept(source).name, graph.concept(target).name
    if link.kind == "context" and link.edge is not None:
        w = graph.concept(link.via or link.edge.target).name
        base = (f"{w} (where {t} is taught) builds on {s}" if link.edge.type == "prerequisite"
                else f"{s} is used in {w} (where {t} is taught)")
    elif link.kind == "used_in":
        base = f"{s} is used in {t}"
    elif link.kind == "part":
        base = f"{s} is part of {t}"
    elif link.kind == "whole":
        base = f"{t} is taught within {s}: start there"
    else:
        base = f"{t} builds on {s}"
    return base + _evidence_text(link.edge, chunks)


def _reason(graph: ConceptGraph, plan: _Plan, node: str, position: Mapping[str, int],
            chunks: Mapping[str, Chunk], queries: Mapping[str, str]) -> str:
    if node in plan.goals:
        query = queries.get(node, "")
        named = f" (asked as '{query}')" if query and query != graph.concept(node).name else ""
        return f"your goal{named}"
    out = sorted(plan.dag.out_edges(node, data="link"),
                 key=lambda e: (_KIND_RANK[e[2].kind], -(e[2].edge.weight if e[2].edge else 0), position[e[1]]))
    if not out:
        return ""
    text = _link_text(graph, node, out[0][1], out[0][2], chunks)
    others = list(dict.fromkeys(graph.concept(t).name for _, t, _ in out[1:] if t != out[0][1]))
    if others:
        text += f"; also needed for {', '.join(others[:3])}" + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    return text


def _steps(graph: ConceptGraph, plan: _Plan, chunks: Mapping[str, Chunk],
           queries: Mapping[str, str]) -> list[StudyStep]:
    order = _ordered(graph, plan)
    position = {node: i for i, node in enumerate(order)}
    steps = []
    for node in order:
        concept = graph.concept(node)
        sources = concept_sources(concept, chunks)
        steps.append(StudyStep(
            concept=concept.name, concept_id=node, aliases=concept.aliases, stage=_stage(plan, node),
            reason=_reason(graph, plan, node, position, chunks, queries),
            minutes=reading_minutes(c.text for c in sources), sources=tuple(source_ref(c) for c in sources),
        ))
    return steps


# --------------------------------------------------------------------------- public entry points


def plan_path(graph: ConceptGraph, resolver: ConceptResolver, chunks: Mapping[str, Chunk], goals: Sequence[str],
              known: Sequence[str] = (), not_known: Sequence[str] = ()) -> StudyPath:
    """A study path to the goals from what the learner knows, each step justified and linked to its sources.

    Args:
        graph: the concept graph.
        resolver: turns names (any alias, either language, fuzzy) into concept ids.
        chunks: chunk records by id (for sources, evidence headings and reading time).
        goals: concept names to reach; names that match nothing land in `unknown_goals` with suggestions.
        known: concept names the learner knows (their parts and prerequisites are known too).
        not_known: concept names to treat as unknown even when `known` implies them.

    Returns:
        The path: resolved goals, unknown goals, the known set (names), and the ordered steps.
    """
    found, unknown_goals = resolve_concepts(resolver, goals)
    known_found, known_missing = resolve_concepts(resolver, known)
    not_known_found, not_known_missing = resolve_concepts(resolver, not_known)
    for miss in known_missing + not_known_missing:
        log.info("study path: '%s' matches no concept (did you mean %s?)", miss["query"],
                 ", ".join(miss["suggestions"][:3]) or "nothing close")
    known_ids = known_closure(graph, [c for _, c in known_found], [c for _, c in not_known_found])
    goal_ids = list(dict.fromkeys(c for _, c in found))
    queries = {cid: q for q, cid in reversed(found)}
    plan = build_plan(graph, goal_ids, known_ids)
    return StudyPath(
        goals=tuple({"query": q, "concept": graph.concept(c).name, "concept_id": c} for q, c in found),
        unknown_goals=tuple(unknown_goals),
        known=tuple(c.name for c in graph.concepts if c.id in known_ids),
        steps=tuple(_steps(graph, plan, chunks, queries)),
    )


def next_frontier(graph: ConceptGraph, known_ids: Iterable[str], goal_ids: Sequence[str] = (), limit: int = 10,
                  not_known_ids: Iterable[str] = ()) -> list[FrontierItem]:
    """Concepts to learn next: not known, and everything they need is known.

    With goals, the candidates are the first steps of the path to them, ranked by how many goals each one
    unlocks; without goals, every ready concept (its dependencies known), ranked by how many
    unknown concepts it enables and by importance (chapters are not a next step).

    Args:
        graph: the concept graph.
        known_ids: ids the learner knows (closed here over parts and prerequisites).
        goal_ids: ids of the goals.
        limit: most items returned.
        not_known_ids: ids marked not known.
    """
    known = known_closure(graph, known_ids, not_known_ids)
    goals = [g for g in dict.fromkeys(goal_ids) if g in graph]
    if goals:
        plan = build_plan(graph, goals, known)
        ready = [n for n in plan.dag.nodes if plan.dag.in_degree(n) == 0 and n not in known]
        unlocks = {n: [g for g in goals if g == n or (g in plan.dag and nx.has_path(plan.dag, n, g))] for n in ready}
    else:
        ready = [c.id for c in graph.concepts if c.id not in known and not _is_area(graph, c)
                 and all(e.source in known for e in dependencies_of(graph, c.id))]
        unlocks = {n: [] for n in ready}
    enables = {n: len({e.target for t in DEPENDENCY_TYPES for e in graph.out_edges(n, t)} - known) for n in ready}

    def rank(n: str) -> tuple[int, int, float, int]:
        concept = graph.concept(n)
        return (-len(unlocks[n]), -enables[n], -concept.importance, concept.order)

    items = []
    for n in sorted(ready, key=rank)[:max(limit, 0)]:
        concept = graph.concept(n)
        items.append(FrontierItem(concept_id=n, concept=concept.name, aliases=concept.aliases,
                                  unlocks=tuple(graph.concept(g).name for g in unlocks[n]),
                                  enables=enables[n], importance=concept.importance))
    return items

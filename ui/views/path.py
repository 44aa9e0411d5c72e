"""Study path page: goals and known concepts (saved to the profile), the ordered steps, a layered picture,
a Markdown export, and the next frontier."""

from __future__ import annotations

import streamlit as st

from assistant.service import StudyService
from kg.graph import ConceptGraph
from kg.mastery import measured_known
from kg.path_export import path_markdown
from kg.paths import next_frontier, plan_path, resolve_concepts
from kg.profile import Profile, load_profile, update_profile
from kg.resolve import picker_label
from studygraph.records import StudyPath, StudyStep
from ui.views import render
from ui.views.concept_panel import GOALS_KEY
from ui.views.state import get_service, shows_errors, workspace_ready

GOALS = "path_goals"
KNOWN = "path_known"
STAGE_TITLES = {"foundations": "Foundations", "core": "Core", "goal": "Goal"}
STAGE_COLOURS = {"foundations": "#a0cbe8", "core": "#ffbe7d", "goal": "#8cd17d"}


def _ids(service: StudyService, names: list[str]) -> list[str]:
    """Concept ids of the names that resolve."""
    found, _ = resolve_concepts(service.resolver, names)
    return list(dict.fromkeys(cid for _, cid in found))


def init_state(service: StudyService, graph: ConceptGraph) -> Profile:
    """Goals and known concepts start from the saved profile; a goal sent from the graph page wins."""
    profile = load_profile(service.workspace)
    if KNOWN not in st.session_state:
        st.session_state[KNOWN] = [i for i in _ids(service, profile.known) if i in graph]
    if GOALS not in st.session_state:
        st.session_state[GOALS] = [i for i in _ids(service, profile.goals) if i in graph]
    request = st.session_state.pop(GOALS_KEY, None)
    if request:
        st.session_state[GOALS] = [i for i in request if i in graph]
        save_choices(service, graph)
    return profile


def save_choices(service: StudyService, graph: ConceptGraph) -> None:
    """Write the chosen goals and known concepts to the profile (names, so they survive a rebuild)."""
    names = {c.id: c.name for c in graph.concepts}
    known = [names[i] for i in st.session_state.get(KNOWN, []) if i in names]
    goals = [names[i] for i in st.session_state.get(GOALS, []) if i in names]
    in_graph = {n.casefold() for n in names.values()}

    def change(p: Profile) -> Profile:
        # Names this graph does not hold (set from the CLI on other notes) are kept as they were.
        kept_known = [n for n in p.known if n.casefold() not in in_graph]
        kept_goals = [n for n in p.goals if n.casefold() not in in_graph]
        chosen = {n.casefold() for n in known}
        return Profile(known=kept_known + known, not_known=[n for n in p.not_known if n.casefold() not in chosen],
                       goals=kept_goals + goals)

    update_profile(service.workspace, change)


def mark_known(service: StudyService, graph: ConceptGraph, concept_id: str) -> None:
    """Add a step's concept to the known ones and save the profile (a button callback)."""
    st.session_state[KNOWN] = list(dict.fromkeys([*st.session_state.get(KNOWN, []), concept_id]))
    save_choices(service, graph)


def choices(service: StudyService, graph: ConceptGraph) -> list[str]:
    """Goal and known-concept pickers; returns the goal names to plan for."""
    names = {c.id: c.name for c in graph.concepts}
    # the label carries every name in both languages, so typing any alias ("Python编程") finds the concept
    fmt = lambda i: picker_label(graph.concept(i)) if i in names else i  # noqa: E731
    on_change = lambda: save_choices(service, graph)  # noqa: E731
    left, right = st.columns(2)
    left.multiselect("Goals: what do you want to learn?", list(names), key=GOALS, format_func=fmt,
                     on_change=on_change, placeholder="pick one or more concepts")
    typed = left.text_input("…or type a goal by any name or alias (either language)", key="path_typed",
                            placeholder="e.g. attention mechanism")
    right.multiselect("Concepts you already know (saved to your profile)", list(names), key=KNOWN,
                      format_func=fmt, on_change=on_change, placeholder="what you know already")
    right.caption("Knowing a concept also covers its parts and its own prerequisites.")
    goal_names = [names[i] for i in st.session_state[GOALS]]
    return goal_names + ([typed.strip()] if typed.strip() else [])


def step_card(service: StudyService, graph: ConceptGraph, number: int, step: StudyStep) -> None:
    """One step: concept, stage, minutes, why it is there, and the passages to read."""
    with st.container(border=True):
        head, tick = st.columns([3, 1])
        aliases = f" ({', '.join(step.aliases[:3])})" if step.aliases else ""
        head.markdown(f"**{number}. {render.md_text(step.concept)}**{render.md_text(aliases)}  \n"
                      f":gray[{step.stage} · ~{step.minutes:g} min]")
        if step.stage != "goal":
            tick.button("I know it", key=f"know-{step.concept_id}", icon=":material/check:", width="stretch",
                        on_click=mark_known, args=(service, graph, step.concept_id))
        if step.reason:
            st.markdown("Why: " + render.md_text(step.reason))
        for ref in step.sources:
            st.caption(":material/menu_book: " + render.md_text(render.location(ref.source, ref.heading_path, ref.line_start,
                                                              ref.line_end)))


def path_dot(graph: ConceptGraph, path: StudyPath) -> str:
    """Graphviz source of the path, prerequisites left to right, coloured by stage."""
    ids = {s.concept_id for s in path.steps}
    lines = ["digraph path {", "  rankdir=LR; nodesep=0.25; ranksep=0.5;",
             '  node [shape=box, style="rounded,filled", fontname="WenQuanYi Micro Hei, sans-serif", fontsize=12];']
    for n, step in enumerate(path.steps, 1):
        label = _dot_quote(f"{n}. {step.concept}")
        lines.append(f'  "{step.concept_id}" [label={label}, fillcolor="{STAGE_COLOURS.get(step.stage, "#ddd")}"];')
    for edge in graph.edges():
        if edge.type != "related" and edge.source in ids and edge.target in ids:
            style = "dashed" if edge.type == "part_of" else "solid"
            lines.append(f'  "{edge.source}" -> "{edge.target}" [style={style}, tooltip="{edge.type}"];')
    lines.append("}")
    return "\n".join(lines)


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def show_path(service: StudyService, graph: ConceptGraph, path: StudyPath) -> None:
    """Unknown goals with suggestions, totals, export, the layered picture and the steps by stage."""
    for miss in path.unknown_goals:
        suggestions = ", ".join(str(s) for s in miss.get("suggestions", [])[:5]) or "nothing close"
        st.warning(render.md_text(f"No concept matches “{miss['query']}”. Did you mean: {suggestions}?"))
    if not path.steps:
        if path.goals:
            st.success("You already know everything these goals need.")
        return
    total = sum(s.minutes for s in path.steps)
    cols = st.columns(3)
    cols[0].metric("Steps", len(path.steps))
    cols[1].metric("Reading time", f"~{total:g} min")
    cols[2].download_button("Export as Markdown", path_markdown(path), file_name="study-path.md",
                            mime="text/markdown", icon=":material/download:", key="path_export")
    st.graphviz_chart(path_dot(graph, path), width="stretch")
    number = 0
    for stage in ("foundations", "core", "goal"):
        steps = [s for s in path.steps if s.stage == stage]
        if not steps:
            continue
        st.subheader(f"{STAGE_TITLES[stage]} ({len(steps)})")
        for step in steps:
            number = path.steps.index(step) + 1
            step_card(service, graph, number, step)


def show_frontier(service: StudyService, graph: ConceptGraph, profile: Profile) -> None:
    """Concepts ready to learn now, ranked by the goals they unlock."""
    st.subheader("Next frontier")
    st.caption("Concepts you can learn now: everything they need is known. Ranked by the goals they unlock.")
    measured = measured_known(service.workspace, lambda: service.cards, service.settings.learn, [])[1]
    items = next_frontier(graph, st.session_state.get(KNOWN, []) + _ids(service, measured),
                          st.session_state.get(GOALS, []), limit=8,
                          not_known_ids=_ids(service, profile.not_known))
    if not items:
        st.caption("Nothing: pick goals or mark more concepts as known.")
    for item in items:
        unlocks = f" · unlocks {', '.join(item.unlocks)}" if item.unlocks else ""
        st.markdown(f"- **{render.md_text(item.concept)}** :gray[{render.md_text(f'enables {item.enables}{unlocks}')}]")


def main() -> None:
    """The page: pickers on top, the path on the left, the next frontier on the right."""
    st.title("Study path")
    with shows_errors():
        service = get_service()
        if not workspace_ready(service):
            return
        graph = service.graph
        profile = init_state(service, graph)
        goals = choices(service, graph)
        main_col, side_col = st.columns([3, 1], gap="medium")
        with side_col:
            show_frontier(service, graph, profile)
        with main_col:
            if not goals:
                st.info("Pick a goal to see what to read, in what order, and why.", icon=":material/flag:")
                return
            names = {c.id: c.name for c in graph.concepts}
            known = [names[i] for i in st.session_state.get(KNOWN, []) if i in names]
            known, measured = measured_known(service.workspace, lambda: service.cards, service.settings.learn,
                                             known)
            if measured:  # issue 15: what the reviews show is retained counts as known, shown apart
                st.caption(":material/style: Known from your reviews (measured): " + render.md_text(", ".join(measured)))
            with st.spinner("Planning…"):
                path = plan_path(graph, service.resolver, service.chunks, goals, known=known,
                                 not_known=profile.not_known)
            show_path(service, graph, path)


if __name__ == "__main__":
    main()

"""A study path as a Markdown checklist (the CLI's `--format markdown` and the app's download are this text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from kg.reading import READING_ASSUMPTION
from studygraph.records import SourceRef, StudyPath

SHOWN_KNOWN = 12  # known concepts named in the header; the rest are counted


def unknown_goal_text(miss: Mapping[str, Any]) -> str:
    """"'xyz' is not in your notes; did you mean: a, b?" (or that nothing is close)."""
    hint = ", ".join(str(s) for s in list(miss.get("suggestions") or [])[:5])
    return f"'{miss['query']}' is not in your notes" + (f"; did you mean: {hint}?" if hint else " (no similar concept).")


def source_link(ref: SourceRef) -> str:
    """A Markdown link to a passage: `[file § heading (lines a–b)](file#La-Lb)`."""
    heading = ref.heading_path[-1] if ref.heading_path else ""
    label = f"{ref.source} § {heading} (lines {ref.line_start}–{ref.line_end})" if heading else \
        f"{ref.source} (lines {ref.line_start}–{ref.line_end})"
    label = label.replace("[", "\\[").replace("]", "\\]")
    return f"[{label}]({quote(ref.source)}#L{ref.line_start}-L{ref.line_end})"


def merge_sources(refs: Iterable[SourceRef]) -> list[SourceRef]:
    """Adjacent passages of one section as one passage (a section split into chunks is read in one go)."""
    merged: list[SourceRef] = []
    for ref in refs:
        last = merged[-1] if merged else None
        if last and (last.source, last.heading_path) == (ref.source, ref.heading_path) \
                and ref.line_start <= last.line_end + 2:
            merged[-1] = last.model_copy(update={"line_end": max(last.line_end, ref.line_end)})
        else:
            merged.append(ref)
    return merged


def path_markdown(path: StudyPath) -> str:
    """The path as a Markdown checklist, one item a step, grouped by stage, linking each step to its passages.

    Each item names the concept (and up to three aliases), why it is on the path, the reading time and links
    `file#La-Lb` to the passages to read; the header lists unknown goals, skipped known concepts and totals.
    """
    goals = ", ".join(str(g.get("concept", "")) for g in path.goals) or "nothing found"
    lines = [f"# Study path to {goals}", ""]
    lines += [f"- {unknown_goal_text(miss)}" for miss in path.unknown_goals]
    if path.known:
        more = len(path.known) - SHOWN_KNOWN
        lines.append(f"- Already known, skipped: {', '.join(path.known[:SHOWN_KNOWN])}"
                     + (f" and {more} more" if more > 0 else ""))
    total = sum(s.minutes for s in path.steps)
    lines.append(f"- {len(path.steps)} steps, about {total:g} min of reading ({READING_ASSUMPTION})")
    stage = ""
    for step in path.steps:  # in path order: a stage heading repeats rather than reorder the steps
        if step.stage != stage:
            stage = step.stage
            lines += ["", f"## {stage.capitalize()}", ""]
        aliases = f" ({', '.join(step.aliases[:3])})" if step.aliases else ""
        links = " · ".join(source_link(ref) for ref in merge_sources(step.sources)) or "no passage in the notes"
        lines.append(f"- [ ] **{step.concept}**{aliases} — {step.reason} — ~{step.minutes:g} min — {links}")
    return "\n".join(lines).rstrip() + "\n"

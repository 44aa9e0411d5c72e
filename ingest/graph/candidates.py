"""Which written names are concepts: headings and bold leads that are structure, phrases that are plain language,
and glossary terms the running text uses often without naming them in a heading."""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from ingest.graph.occurrences import Occurrence
from ingest.graph.scan import NoteScan
from ingest.graph.vocabulary import active, looks_like_title, plain_language
from kg.glossary import Glossary
from kg.matcher import TermMatcher
from kg.names import clean_display, normalize_name

log = logging.getLogger(__name__)


def without_fences(text: str) -> str:
    """Text without fence lines ("```python" names a language, not a concept mentioned)."""
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(("```", "~~~")))


_TERM_TOKEN = re.compile(r"[A-Za-z]*[a-z][A-Z][A-Za-z]*|[A-Z]{2,}|[A-Za-z]+-?\d")  # CamelCase, acronym, "GPT-4"
_ANCHOR_LINK = re.compile(r"\[[^\]]*\]\(#[^)]*\)")


def _term_like(occ: Occurrence) -> bool:
    """A name that says it is a term by its knowledge or its shape: a glossary entry, an alias written with it,
    or a short name holding a token such as an acronym or a CamelCase word. A phrase of three or more words
    joined by function words ("Sample Categories of CS231n Projects", "Fine-tuning the ConvNet") is a title."""
    if occ.entry is not None or occ.aliases:
        return True
    words = occ.name.split()
    if looks_like_title(occ.name) or any(w in occ.name for w in active().function_words if not w.isascii()):
        return False
    return len(words) <= 3 and bool(_TERM_TOKEN.search(occ.name))


_DECLARED = ("note", "link", "tag")
_REREAD_KINDS = {"heading": 1, "bold": 2}  # mentions a name needs where it is not itself written as a heading


def without_structure(occurrences: list[Occurrence], scan: NoteScan) -> list[Occurrence]:
    """Headings and bold paragraph leads that name no concept are structure ("Practical considerations",
    "Setting Delta", "Interactive web demo"): such a name is a concept when it has the shape of a term, is
    written elsewhere as a term of another kind (a list item, a table cell, a pair), or recurs in the running
    text of the notes (a bold lead once more than its own line); otherwise it is dropped and a heading's section
    becomes transparent."""
    plain = {id(o) for o in occurrences
             if o.kind not in _DECLARED and o.entry is None and plain_language(o.name)}
    _make_transparent(occurrences, plain, scan)
    occurrences = [o for o in occurrences if id(o) not in plain]
    written = {k for o in occurrences if o.kind not in _REREAD_KINDS for k in o.keys()}
    doubtful = [o for o in occurrences if o.kind in _REREAD_KINDS and not _term_like(o) and not (o.keys() & written)]
    if not doubtful:
        return occurrences
    groups: dict[str, list[Occurrence]] = defaultdict(list)
    for occ in doubtful:
        groups[normalize_name(occ.name)].append(occ)
    matcher = TermMatcher({o.name: normalize_name(o.name) for o in doubtful}, ignore=active().stop_terms)
    counts: dict[str, int] = defaultdict(int)
    for chunk in scan.chunks.values():
        body = "\n".join(line for line in chunk.text.split("\n") if not line.lstrip().startswith("#"))
        body = _ANCHOR_LINK.sub(" ", body)  # a table of contents repeats every heading
        for match in matcher.find(without_fences(body)):
            counts[match.concept_id] += 1
    dropped: set[int] = set()
    for key, group in groups.items():
        needed = sum(_REREAD_KINDS[o.kind] - 1 for o in group) + 1
        if counts[key] < needed:
            dropped |= {id(o) for o in group}
    _make_transparent(occurrences, dropped, scan)
    log.debug("%d heading(s) and bold lead(s) read as structure", len(dropped))
    return [o for o in occurrences if id(o) not in dropped]


# A glossary term the running text uses this often (in two passages or more) is a concept of the notes even
# where no heading, bold or list names it ("stride" 45 times in cs231n, "步长" in paddle). Chosen on the tuning
# halves: at 4 the terms added were the corpora's frequent technical words; at 2 one-off mentions of other
# topics ("in contrast to boosting") became concepts of a note about something else.
GLOSSARY_TERM_MENTIONS = 4


def glossary_terms(scan: NoteScan, glossary: Glossary, occurrences: list[Occurrence]) -> list[Occurrence]:
    """Glossary terms the notes' running text uses often, named as the notes write them most."""
    names = {name: entry.key for entry in glossary for name in entry.names}
    matcher = TermMatcher(names, ignore=active().stop_terms)
    have = {o.entry.key for o in occurrences if o.entry is not None}
    counts: dict[str, int] = defaultdict(int)
    chunks_of: dict[str, list[str]] = defaultdict(list)
    surfaces: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for chunk in sorted(scan.chunks.values(), key=lambda c: (c.source, c.line_start, c.order)):
        section = scan.by_id.get(chunk.section_id)
        if section is None or section.role in ("skip", "curriculum"):
            continue
        for match in matcher.find(without_fences(chunk.text)):
            if match.concept_id in have:
                continue
            counts[match.concept_id] += 1
            surfaces[match.concept_id][match.surface] += 1
            if not chunks_of[match.concept_id] or chunks_of[match.concept_id][-1] != chunk.id:
                chunks_of[match.concept_id].append(chunk.id)
    found = []
    for key, count in counts.items():
        if count < GLOSSARY_TERM_MENTIONS or len(chunks_of[key]) < 2:
            continue
        chunk = scan.chunks[chunks_of[key][0]]
        name = clean_display(max(surfaces[key].items(), key=lambda kv: (kv[1], kv[0]))[0])
        found.append(Occurrence(chunk.section_id, None, "term", name, (), glossary.entry(key), chunk.id,
                                chunk.line_start))
    return found


def _make_transparent(occurrences: list[Occurrence], dropped: set[int], scan: NoteScan) -> None:
    for occ in occurrences:
        if id(occ) in dropped and occ.kind == "heading":
            scan.by_id[occ.section_id].role = "transparent"

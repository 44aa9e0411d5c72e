"""Links the user wrote: Obsidian `[[wikilinks]]` (with `#heading` and `|alias`) in the text, and front matter
`aliases:`, `tags:` and `prerequisites:`. They become concepts, aliases and edges whose evidence is the line
that declares them, and they outrank guessed edges (higher weights than any rule that reads prose)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from ingest.graph.occurrences import Occurrence, glossary_entry
from ingest.graph.scan import NoteScan
from ingest.graph.vocabulary import active, heading_role, looks_like_concept, looks_like_title
from kg.glossary import Glossary
from kg.names import clean_display, normalize_name
from studygraph.records import EdgeType

# [[target]], [[target#heading]], [[target|alias]], [[target#heading|alias]]; ![[...]] embeds a file.
WIKILINK = re.compile(r"(?P<embed>!?)\[\[(?P<target>[^\]|#]*)(?:#(?P<heading>[^\]|]*))?(?:\|(?P<alias>[^\]]*))?\]\]")
_FILE_EXTENSION = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|pdf|mp4|mp3|canvas|excalidraw)$", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_SENTENCE = re.compile(r"[^。！？!?]*?(?:[。！？!?]|\.(?:\s|$)|$)")

FRONT_MATTER_PREREQUISITE = 0.95  # the user said "learn A first": stronger than any cue a rule reads (<= 0.9)
WIKILINK_PREREQUISITE = 0.85  # a link from B's text to A: B builds on A (stronger than reference asymmetry)
TAG_PART_OF = 0.9


@dataclass(frozen=True)
class DeclaredLink:
    """An edge the notes declare, between names (union keys) that become concept ids once concepts are merged."""

    source: str  # a union key ("n:name") until concepts are merged, then a concept id; "s:<id>": a section's
    target: str
    type: EdgeType
    weight: float
    chunk_id: str
    rule: str
    detail: str


def read_front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a note (empty when there is none or it does not parse)."""
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[,，\s]+" if "[[" not in value else r"(?<=\]\])\s*,?\s*", value) if v]
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def note_name(source: str) -> str:
    """The concept a note file stands for: its file name, without emoji and a trailing title word
    ("🍔Layer norm notes.md" -> "Layer norm")."""
    stem = clean_display(PurePosixPath(source).stem)
    words = stem.split()
    if len(words) > 1 and active().title_words.search(words[-1]):
        stem = " ".join(words[:-1])
    return stem


def _link_name(target: str, heading: str | None) -> str | None:
    """The concept a link names: its target note, else the heading it points at inside the same note."""
    target = target.strip()
    if target.startswith("@") or _FILE_EXTENSION.search(target):
        return None  # a citation key (a literature note) or an embedded file names no concept
    name = note_name(target) if target else clean_display(heading or "")
    return name or None


def _key(name: str) -> str:
    return "n:" + normalize_name(name)


class _Notes:
    """What each note file stands for: its first section and chunk, and its declared aliases."""

    def __init__(self, scan: NoteScan, front_matter: Mapping[str, Mapping[str, Any]]):
        self.first: dict[str, tuple[str, str, int]] = {}  # source -> (section id, chunk id, line)
        for section_scan in scan.sections:
            source = section_scan.section.source
            if source not in self.first and section_scan.chunk_ids:
                self.first[source] = (section_scan.section.id, section_scan.chunk_ids[0], section_scan.section.line_start)
        self.front = {source: dict(front_matter.get(source) or {}) for source in self.first}
        self.by_name = {normalize_name(note_name(s)): s for s in self.first}


def _is_concept_name(name: str) -> bool:
    return (looks_like_concept(name, strict=False) and heading_role(name, 2, False) == "concept"
            and not looks_like_title(name))


def declared_occurrences(scan: NoteScan, glossary: Glossary, front_matter: Mapping[str, Mapping[str, Any]]
                         ) -> tuple[list[Occurrence], list[DeclaredLink]]:
    """Concepts and edges the notes declare.

    A note that is linked to, or that declares aliases or prerequisites, stands for a concept named after it.
    A wikilink from B's text to A relates A and B (B's note concept, else B's section concept, resolved later);
    it makes A a prerequisite of B when its sentence recalls A ("Recall from [[A]]"), and B one of A when it
    points ahead ("we will see [[A]] later").

    Args:
        scan: the scanned notes.
        glossary: links declared names to glossary entries.
        front_matter: source -> parsed front matter (`read_front_matter`), for the notes that have one.
    """
    notes = _Notes(scan, front_matter)
    occurrences: list[Occurrence] = []
    links: list[DeclaredLink] = []
    linked: dict[str, set[str]] = defaultdict(set)  # linking source -> link keys
    raw: list[tuple[str, str, str, str, str]] = []  # (source, section id, link key, chunk id, direction)
    for section_scan in scan.sections:
        if section_scan.role in ("skip",):
            continue
        for line in section_scan.lines:
            if line.kind not in ("prose", "item", "table"):
                continue
            for name, alias, direction in _links_in(line.text):
                if not _is_concept_name(name):
                    continue
                target_source = notes.by_name.get(normalize_name(name))
                occurrences.append(_occurrence(section_scan.section.id, "link", name, (alias,) if alias else (),
                                               glossary, line.chunk_id, line.no))
                if target_source is not None:
                    _note_occurrence(notes, target_source, glossary, occurrences)
                source = section_scan.section.source
                linked[source].add(_key(name))
                raw.append((source, section_scan.section.id, _key(name), line.chunk_id, direction))
    for source, fm in notes.front.items():
        if fm.get("aliases") or fm.get("prerequisites") or fm.get("tags"):
            _note_occurrence(notes, source, glossary, occurrences)
        links.extend(_front_matter_links(notes, source, fm, glossary, occurrences))
    declared = _declared_sources(occurrences, notes)
    for source, section_id, key, chunk_id, direction in raw:
        own = _key(note_name(source)) if source in declared else "s:" + section_id
        if own[2:] == key[2:]:
            continue
        if direction == "back":
            links.append(DeclaredLink(key, own, "prerequisite", WIKILINK_PREREQUISITE, chunk_id, "wikilink",
                                      "its text recalls it"))
        elif direction == "ahead":
            links.append(DeclaredLink(own, key, "prerequisite", WIKILINK_PREREQUISITE, chunk_id, "wikilink",
                                      "links ahead to it"))
        else:
            links.append(DeclaredLink(key, own, "related", WIKILINK_PREREQUISITE, chunk_id, "wikilink",
                                      "the notes link them"))
    return occurrences, links


def _declared_sources(occurrences: list[Occurrence], notes: _Notes) -> set[str]:
    firsts = {section_id: source for source, (section_id, _, _) in notes.first.items()}
    return {firsts[o.section_id] for o in occurrences if o.kind == "note" and o.section_id in firsts}


def _links_in(text: str) -> Iterator[tuple[str, str, str]]:
    """(name, alias, direction) of each wikilink in a line: "back" when its sentence recalls what came before
    ("Recall from [[X]]", "基于[[X]]"), "ahead" when it points to what comes later, else "" (a link says two
    notes are related, not which to learn first: vaults link both ways)."""
    if "[[" not in text:  # no wikilink (most lines): skip the sentence split and cue search
        return
    cues = active()
    for sentence in _SENTENCE.finditer(text):
        plain = WIKILINK.sub(" ", sentence.group(0))
        direction = "back" if cues.backward_cues.search(plain) else "ahead" if cues.forward_cues.search(plain) else ""
        for match in WIKILINK.finditer(sentence.group(0)):
            if match.group("embed"):
                continue
            name = _link_name(match.group("target") or "", match.group("heading"))
            if name:
                alias = clean_display(match.group("alias") or "")
                keep_alias = alias and normalize_name(alias) != normalize_name(name) and looks_like_concept(alias)
                yield name, alias if keep_alias else "", direction


def _occurrence(section_id: str, kind: str, name: str, aliases: tuple[str, ...], glossary: Glossary,
                chunk_id: str | None, line: int) -> Occurrence:
    entry = glossary_entry(name, glossary) or next((e for a in aliases if (e := glossary_entry(a, glossary))), None)
    return Occurrence(section_id, None, kind, name, aliases, entry, chunk_id, line, level=1)


def _note_occurrence(notes: _Notes, source: str, glossary: Glossary, occurrences: list[Occurrence]) -> None:
    """The note itself as the home of its concept (once), with the aliases its front matter declares."""
    section_id, chunk_id, line = notes.first[source]
    if any(o.kind == "note" and o.section_id == section_id for o in occurrences):
        return
    name = note_name(source)
    if not _is_concept_name(name):
        return
    aliases = tuple(clean_display(a) for a in _as_list(notes.front[source].get("aliases")) if clean_display(a))
    occurrences.append(_occurrence(section_id, "note", name, aliases, glossary, chunk_id, line))


def _front_matter_links(notes: _Notes, source: str, fm: Mapping[str, Any], glossary: Glossary,
                        occurrences: list[Occurrence]) -> list[DeclaredLink]:
    """`prerequisites:` (names or wikilinks) before the note; the note part of each `tags:` topic."""
    section_id, chunk_id, line = notes.first[source]
    own = _key(note_name(source))
    found: list[DeclaredLink] = []
    for value in _as_list(fm.get("prerequisites")):
        names = [n for n, _, _ in _links_in(value)] or [clean_display(value)]
        for name in names:
            if name and _is_concept_name(name):
                occurrences.append(_occurrence(section_id, "link", name, (), glossary, chunk_id, line))
                found.append(DeclaredLink(_key(name), own, "prerequisite", FRONT_MATTER_PREREQUISITE, chunk_id,
                                          "front_matter", "prerequisites:"))
    for tag in _as_list(fm.get("tags")):
        name = clean_display(tag.lstrip("#").split("/")[-1].replace("-", " ").replace("_", " "))
        if name and _is_concept_name(name):
            occurrences.append(_occurrence(section_id, "tag", name, (), glossary, chunk_id, line))
            found.append(DeclaredLink(own, _key(name), "part_of", TAG_PART_OF, chunk_id, "front_matter", "tags:"))
    return found

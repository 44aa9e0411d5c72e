"""From written terms to name occurrences: split "A/B", "A与B", "A、B", `name（alias）`, and link the glossary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.graph.pairs import find_pairs
from ingest.graph.scan import NoteScan, SectionScan, TermOcc
from ingest.graph.vocabulary import looks_like_concept
from kg.glossary import GENERIC_SUFFIX, Glossary, GlossaryEntry
from kg.names import clean_display, is_abbreviation, normalize_name, singular_key, split_alias, split_slash

# Rank of where a name is written: the strongest place is the concept's home (what defines it).
KIND_RANK = {"note": 0, "heading": 0, "bold": 1, "cell": 2, "item": 3, "model": 3, "example": 4, "pair": 5,
             "link": 5, "tag": 5, "term": 6, "application": 6}
_CONJUNCTION = re.compile(r"\s*(?:与|和|及|以及|&|\band\b|\bvs\.?)\s*", re.IGNORECASE)
_ENUMERATION = re.compile(r"\s*、\s*")
_PARENS = re.compile(r"[（(]")


@dataclass
class Occurrence:
    """One place that names a concept, with the names written there and the glossary entry they match."""

    section_id: str
    term: int | None  # index into the section's terms; None: the section heading
    kind: str
    name: str
    aliases: tuple[str, ...]
    entry: GlossaryEntry | None
    chunk_id: str | None
    line: int
    level: int = 9
    owner_term: int | None = None  # for applications: the term (None: heading) whose list holds them

    def keys(self) -> set[str]:
        """Union keys: every normalized name (and English singular), and the glossary entry."""
        keys = set()
        for name in (self.name, *self.aliases):
            key = normalize_name(name)
            if len(key) >= 1:
                keys |= {"n:" + key, "n:" + singular_key(key)}
        if self.entry is not None:
            keys.add("g:" + self.entry.key)
        return keys


def glossary_entry(name: str, glossary: Glossary) -> GlossaryEntry | None:
    """The entry a name belongs to, also through a generic suffix ("神经网络基础", "Transformer架构")."""
    return glossary.find(name)


def shorter_name(name: str, entry: GlossaryEntry | None, glossary: Glossary) -> str:
    """ "Transformer架构" -> "Transformer" when the stem names the same glossary entry; else the name."""
    match = GENERIC_SUFFIX.match(name)
    if entry is None or not match:
        return name
    primary = {normalize_name(entry.zh), normalize_name(entry.en)} - {""}
    if normalize_name(match.group(1)) in primary and normalize_name(name) not in primary:
        return match.group(1).strip()
    return name


def split_parts(text: str, glossary: Glossary) -> list[str]:
    """ "t-SNE/UMAP", "期望、方差、协方差", "梯度下降与随机梯度下降" (both known) -> separate names."""
    parts = []
    for piece in split_slash(text):
        pieces = [p for p in _ENUMERATION.split(piece) if p.strip()] if not _PARENS.search(piece) else [piece]
        if len(pieces) > 1 and all(looks_like_concept(p) for p in pieces):
            parts.extend(pieces)
            continue
        halves = [h for h in _CONJUNCTION.split(split_alias(piece).name) if h.strip()]
        if len(halves) == 2 and all(glossary_entry(h, glossary) for h in halves) and "（" not in piece:
            parts.extend(halves)
        else:
            parts.append(piece)
    return parts


def _named(section_id: str, term: int | None, kind: str, text: str, glossary: Glossary,
           chunk_id: str | None, line: int, level: int = 9) -> list[Occurrence]:
    """The occurrence(s) of one written name, with its examples as occurrences of their own."""
    split = split_alias(text, glossary.same_concept, lambda n: glossary.lookup(n) is not None)
    entry = glossary_entry(split.name, glossary)
    aliases = tuple(a for a in split.aliases
                    if entry is None or glossary_entry(a, glossary) in (None, entry))
    if entry is None:  # an abbreviation alone is too ambiguous to say which entry a name is ("ANN")
        entry = next((e for a in aliases if not is_abbreviation(a) and (e := glossary_entry(a, glossary))), None)
    found = [Occurrence(section_id, term, kind, split.name, aliases, entry, chunk_id, line, level)]
    for example in split.examples:
        if len(normalize_name(example)) >= 3 or glossary.lookup(example):
            found.append(Occurrence(section_id, term, "example", example, (),
                                    glossary_entry(example, glossary), chunk_id, line))
    return found


_LOWER_WORD = re.compile(r"^[a-z][a-z\-]*$")


def _sentence_like(name: str, glossary: Glossary) -> bool:
    """An English phrase of three or more words, lower case after the first, unknown to the glossary:
    a paragraph lead ("Possibly confusing naming conventions"), not a name ("Multiclass Support Vector Machine")."""
    words = name.split()
    return (len(words) >= 3 and all(_LOWER_WORD.match(w) for w in words[1:])
            and glossary.find(name) is None)


def term_occurrences(scan: SectionScan, index: int, term: TermOcc, glossary: Glossary) -> list[Occurrence]:
    """Occurrences of a concept-role term (headings are handled by `heading_occurrences`)."""
    found: list[Occurrence] = []
    for part in split_parts(term.text, glossary):
        if _sentence_like(split_alias(part).name, glossary):
            continue
        if looks_like_concept(part) or glossary.lookup(split_alias(part).name):
            found.extend(_named(scan.section.id, index, term.kind, part, glossary, term.chunk_id, term.line))
    return found


# "感知机——入门的垫脚石", "Attention — the idea": a title, a dash, then a subtitle that is no part of the name.
_SUBTITLE = re.compile(r"\s*(?:——|—|――|--|\s-\s|:\s|：)\s*")


def heading_occurrences(scan: SectionScan, glossary: Glossary) -> list[Occurrence]:
    section = scan.section
    chunk = scan.chunk_ids[0] if scan.chunk_ids else None
    heading = clean_display(section.heading)
    head = _SUBTITLE.split(heading, maxsplit=1)[0]
    if head != heading and looks_like_concept(head, strict=False):
        heading = head
    return _named(section.id, None, "heading", heading, glossary, chunk, section.line_start, section.level)


def pair_occurrences(scan: SectionScan, glossary: Glossary) -> list[Occurrence]:
    """`name（alias）` pairs written in the running text of a section."""
    found = []
    for line in scan.lines:
        if line.kind not in ("prose", "item"):
            continue
        for name, alias in find_pairs(line.text, glossary):
            known = glossary.lookup(name), glossary.lookup(alias)
            if known[0] is not None and known[1] is not None and known[0] is not known[1]:
                continue  # "药物发现（AlphaFold）": an example in parentheses, not another name
            if looks_like_concept(name):
                entry = glossary_entry(name, glossary)
                if entry is None and not is_abbreviation(alias):
                    entry = glossary_entry(alias, glossary)
                found.append(Occurrence(scan.section.id, line.owner, "pair", name, (alias,), entry,
                                        line.chunk_id, line.no))
    return found


def application_names(term: TermOcc, glossary: Glossary) -> list[tuple[str, tuple[str, ...]]]:
    """(name, aliases) of each application an item lists ("主成分分析（PCA）", "线性变换与卷积")."""
    names = []
    for part in split_parts(term.text, glossary):
        split = split_alias(part, glossary.same_concept, lambda n: glossary.lookup(n) is not None)
        names.append((split.name, split.aliases))
    return names


def collect_occurrences(scan: NoteScan, glossary: Glossary) -> list[Occurrence]:
    """Every occurrence that defines a concept: headings, bold terms, cells, concept-list items, examples, pairs."""
    found: list[Occurrence] = []
    for section_scan in scan.sections:
        if section_scan.role == "concept":
            found.extend(heading_occurrences(section_scan, glossary))
        if section_scan.role in ("skip", "curriculum"):
            continue
        for index, term in enumerate(section_scan.terms):
            if term.inline and glossary.find(split_alias(term.text).name) is None:
                continue  # "**输入信息**" in a sentence is emphasis; "**hinge loss**" is a known name
            if not term.dropped and term.role == "concept":
                found.extend(term_occurrences(section_scan, index, term, glossary))
        found.extend(pair_occurrences(section_scan, glossary))
    return found

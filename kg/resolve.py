"""Name resolution: from what a person types (any alias, either language, a typo) to one concept of the graph."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process

from kg.glossary import Glossary
from kg.graph import ConceptGraph
from kg.matcher import TermMatcher
from kg.names import STOP_NAMES, normalize_name, singular_key
from studygraph.records import Concept

log = logging.getLogger(__name__)

FUZZY_ACCEPT = 85  # a plain edit-distance ratio at least this, clearly ahead of any other concept, is a typo
FUZZY_MARGIN = 4
SUGGEST_MIN = 60  # WRatio (partial matches count) for a name to be suggested
SUGGESTIONS = 5


@dataclass(frozen=True)
class Resolution:
    """What a name resolved to.

    Attributes:
        query: the name as given.
        concept_id: the concept, or None when nothing matches well enough.
        how: "exact", "normalized", "alias", "glossary", "fuzzy" or "none".
        suggestions: concept names, best first (alternatives to a fuzzy match, or near names when none matched).
    """

    query: str
    concept_id: str | None
    how: str
    suggestions: tuple[str, ...] = ()


class ConceptResolver:
    """Resolves names against a graph's concepts, using the glossary to cross languages.

    Args:
        graph: the concept graph.
        glossary: the bilingual glossary; None resolves by the concepts' own names and aliases only.
    """

    def __init__(self, graph: ConceptGraph, glossary: Glossary | None = None):
        self.graph = graph
        self.glossary = glossary
        self._exact: dict[str, str] = {}
        self._normalized: dict[str, str] = {}
        self._alias: dict[str, str] = {}
        self._entry: dict[str, str] = {}
        for concept in sorted(graph.concepts, key=lambda c: (-c.importance, c.order, c.id)):
            self._exact.setdefault(concept.name.strip(), concept.id)
            key = normalize_name(concept.name)
            for k in (key, singular_key(key)):
                self._normalized.setdefault(k, concept.id)
            for alias in concept.aliases:
                akey = normalize_name(alias)
                for k in (akey, singular_key(akey)):
                    self._alias.setdefault(k, concept.id)
            for name in (concept.name, *concept.aliases):
                entry = glossary.find(name) if glossary is not None else None
                if entry is not None:
                    self._entry.setdefault(entry.key, concept.id)

    # ------------------------------------------------------------------ resolve

    def resolve(self, name: str) -> Resolution:
        """The concept a name denotes: exact, normalized, alias, glossary (cross-language), fuzzy; else none.

        Args:
            name: a concept name as a person writes it ("PCA", "主成分分析", "attention mechanism", "transfomer").

        Returns:
            The resolution; with `concept_id` None it carries suggestions (near names), never raises.
        """
        query = name.strip()
        if not query:
            return Resolution(name, None, "none")
        if query in self._exact or query in self.graph:
            return Resolution(name, self._exact.get(query, query), "exact")
        key = normalize_name(query)
        for table, how in ((self._normalized, "normalized"), (self._alias, "alias")):
            found = table.get(key) or table.get(singular_key(key))
            if found:
                return Resolution(name, found, how)
        entry = self.glossary.find(query) if self.glossary is not None else None
        if entry is not None and entry.key in self._entry:
            return Resolution(name, self._entry[entry.key], "glossary")
        return self._fuzzy(name, key)

    @cached_property
    def _choices(self) -> list[tuple[str, str]]:
        """(normalized name or alias, concept id) for fuzzy matching."""
        seen: dict[str, str] = {}
        for concept in self.graph.concepts:
            for name in (concept.name, *concept.aliases):
                key = normalize_name(name)
                if len(key) >= 2:
                    seen.setdefault(key, concept.id)
        return list(seen.items())

    def _ranked(self, key: str, scorer=fuzz.WRatio) -> list[tuple[str, float]]:  # noqa: ANN001
        """Concept ids by their best name's similarity to the key, best first."""
        keys = [k for k, _ in self._choices]
        best: dict[str, float] = {}
        for _, score, index in process.extract(key, keys, scorer=scorer, limit=40):
            concept_id = self._choices[index][1]
            best[concept_id] = max(best.get(concept_id, 0.0), float(score))
        return sorted(best.items(), key=lambda kv: (-kv[1], self.graph.concept(kv[0]).order))

    def _fuzzy(self, name: str, key: str) -> Resolution:
        if len(key) < 2:
            return Resolution(name, None, "none")
        close = self._ranked(key, fuzz.ratio) if len(key) >= 3 else []
        if close and close[0][1] >= FUZZY_ACCEPT and close[0][1] - (close[1][1] if len(close) > 1 else 0) >= FUZZY_MARGIN:
            others = [self.graph.concept(cid).name for cid, s in self._ranked(key)[:SUGGESTIONS + 1]
                      if s >= SUGGEST_MIN and cid != close[0][0]]
            return Resolution(name, close[0][0], "fuzzy", tuple(others[:SUGGESTIONS]))
        names = [self.graph.concept(cid).name for cid in self.find_in_text(name)]
        entry = self.glossary.find(name) if self.glossary is not None else None
        if entry is not None:  # a known concept the notes lack: suggest what they have of its prerequisites
            names += [self.graph.concept(self._entry[p]).name for p in entry.prerequisites if p in self._entry]
        names += [self.graph.concept(cid).name for cid, score in self._ranked(key) if score >= SUGGEST_MIN]
        return Resolution(name, None, "none", tuple(dict.fromkeys(names))[:SUGGESTIONS])

    # ------------------------------------------------------------------ free text

    @cached_property
    def _matcher(self) -> TermMatcher:
        names: dict[str, str] = {}
        for concept in sorted(self.graph.concepts, key=lambda c: (-c.importance, c.order, c.id)):
            for name in (concept.name, *concept.aliases):
                names.setdefault(name, concept.id)
        if self.glossary is not None:
            for key, concept_id in self._entry.items():
                for name in self.glossary.entry(key).names:
                    names.setdefault(name, concept_id)
        return TermMatcher(names, ignore=STOP_NAMES)

    @cached_property
    def _vocabulary_matcher(self) -> TermMatcher | None:
        if self.glossary is None:
            return None
        return TermMatcher({name: entry.key for entry in self.glossary for name in entry.names}, ignore=STOP_NAMES)

    def vocabulary_in(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """The glossary concepts a free text names, whether the notes have them or not: (the name as written in
        the text, every name of the concept in both languages), longest match first, in text order.

        "EM算法的E步和M步分别做什么" -> [("EM算法", ("EM算法", "EM algorithm", "期望最大化算法", ...))].
        """
        if self._vocabulary_matcher is None or not text.strip():
            return []
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        spans = unicodedata.normalize("NFKC", text)  # the text the matcher's spans index
        for match in self._vocabulary_matcher.find(text):
            names = self.glossary.entry(match.concept_id).names
            found.setdefault(match.concept_id, (spans[match.start:match.end], names))
        return list(found.values())

    def find_in_text(self, text: str) -> list[str]:
        """Ids of the concepts a free text names (any alias, either language), longest match first, in order.

        "我想学LoRA，应该先学什么" -> [LoRA]; "how does the attention mechanism work" -> [注意力机制].
        Single letters and common words never match.
        """
        return self._matcher.concepts_in(text) if text.strip() else []


PICKER_ALIASES = 4  # aliases shown beside a name in a picker: enough for both languages and an abbreviation


def picker_label(concept: Concept) -> str:
    """A concept as a picker lists it: its name, then its other names in either language.

    Pickers (Streamlit's multiselect) filter options by the text they show, so a label with the aliases lets a
    person type "Python编程", "主成分分析" or "PCA" and find the concept named "Python" or "PCA".
    """
    seen = {normalize_name(concept.name)}
    others = []
    for alias in concept.aliases:
        key = normalize_name(alias)
        if key and key not in seen:
            seen.add(key)
            others.append(alias)
    return concept.name + (f" · {' · '.join(others[:PICKER_ALIASES])}" if others else "")


def search_concepts(resolver: ConceptResolver, query: str, limit: int = 10) -> list[str]:
    """Concept ids for what a person types in a search box, best first: the resolved concept (any alias, either
    language, a typo), the concepts named inside the text, its suggestions, then names that contain the text."""
    query = query.strip()
    if not query:
        return []
    found = resolver.resolve(query)
    ids = [found.concept_id] if found.concept_id else []
    ids += resolver.find_in_text(query)
    by_name = {c.name: c.id for c in resolver.graph.concepts}
    ids += [by_name[n] for n in found.suggestions if n in by_name]
    needle = normalize_name(query)
    ids += [c.id for c in resolver.graph.concepts
            if needle and any(needle in normalize_name(n) for n in (c.name, *c.aliases))]
    return list(dict.fromkeys(ids))[:limit]

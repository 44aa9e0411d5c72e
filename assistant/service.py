"""One loaded workspace with its models, built lazily: what the CLI commands and the Streamlit app share.

Every part is loaded on first use and then kept, so the UI can hold one `StudyService` in `st.cache_resource`
and a batch of CLI queries loads models once.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from studygraph.records import EDGE_TYPES
from studygraph.settings import Settings
from studygraph.workspace import Snapshot, Workspace

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.llm import LLM
    from kg.cards import Card
    from kg.glossary import Glossary
    from kg.graph import ConceptGraph
    from kg.resolve import ConceptResolver
    from retrieval.embedders import Embedder
    from retrieval.search import HybridSearcher
    from studygraph.records import Chunk

log = logging.getLogger(__name__)


class StudyService:
    """A read-only view of one workspace generation plus the models that query it.

    Args:
        settings: the effective settings (built once at the edge).
        embedder: an embedder to use instead of the configured one (tests use a fake at this seam).
        llm: an LLM to use instead of the configured one (tests use a scripted fake at this seam).
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None, llm: LLM | None = None):
        self.settings = settings
        self.workspace = Workspace(settings.workspace)
        self._embedder = embedder
        self._llm = llm
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ models

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from retrieval.embedders import build_embedder

                self._embedder = build_embedder(self.settings.embedder)
        return self._embedder

    @property
    def llm(self) -> LLM:
        """The configured LLM, loaded on first use (ModelError when it cannot be)."""
        with self._lock:
            if self._llm is None:
                from assistant.llm_factory import build_llm

                self._llm = build_llm(self.settings.llm)
        return self._llm

    @property
    def llm_loaded(self) -> bool:
        return self._llm is not None

    def reopen(self) -> StudyService:
        """A fresh view of the workspace's current generation that keeps the models already loaded."""
        return StudyService(self.settings, embedder=self._embedder, llm=self._llm)

    # ------------------------------------------------------------------ workspace data

    @cached_property
    def snapshot(self) -> Snapshot:
        """The current complete generation, checked against the configured embedder's name."""
        embedder_name = self._embedder.name if self._embedder is not None else self.settings.embedder.model
        return self.workspace.snapshot(embedder=embedder_name)

    @cached_property
    def chunks(self) -> dict[str, Chunk]:
        from retrieval.store import read_chunks

        return {c.id: c for c in read_chunks(self.snapshot)}

    @cached_property
    def graph(self) -> ConceptGraph:
        from kg.graph import GRAPH_FILE, ConceptGraph

        return ConceptGraph.load(self.snapshot.path(GRAPH_FILE))

    @cached_property
    def glossary(self) -> Glossary:
        from kg.glossary import load_glossary

        return load_glossary(self.settings.graph.glossary)

    @cached_property
    def resolver(self) -> ConceptResolver:
        from kg.resolve import ConceptResolver

        return ConceptResolver(self.graph, self.glossary)

    @cached_property
    def searcher(self) -> HybridSearcher:
        from retrieval.search import HybridSearcher

        return HybridSearcher.from_snapshot(
            self.snapshot,
            chunks=self.chunks,
            embedder=self.embedder,
            settings=self.settings.retrieval,
            concept_chunks=self.concept_chunks_for_query,
            expand_chunks=self.neighbour_chunks_for_query,
            query_terms=self.concept_names_for_query,
        )

    def concept_chunks_for_query(self, query: str) -> list[str]:
        """Ids of the chunks that define the concepts a query names (any alias, either language)."""
        ids: list[str] = []
        for concept_id in self.resolver.find_in_text(query):
            ids.extend(self.graph.concept(concept_id).chunks)
        return list(dict.fromkeys(ids))

    def neighbour_chunks_for_query(self, query: str) -> list[str]:
        """Ids of the chunks that define the direct graph neighbours of the concepts a query names
        (`retrieval.graph_expansion`): prerequisites, parts, uses and related concepts, strongest edges first."""
        named = self.resolver.find_in_text(query)
        edges = [e for cid in named for t in EDGE_TYPES for e in (*self.graph.out_edges(cid, t), *self.graph.in_edges(cid, t))]
        ids: list[str] = []
        for edge in sorted(edges, key=lambda e: -e.weight):
            other = edge.target if edge.source in named else edge.source
            if other not in named:
                ids.extend(self.graph.concept(other).chunks[:1])
        return list(dict.fromkeys(ids))

    def concept_names_for_query(self, query: str) -> list[str]:
        """Other names (aliases, the other language) of the glossary terms and concepts a query names."""
        from kg.graph import GRAPH_FILE
        from kg.matcher import fold

        names: list[str] = []
        for key in self._glossary_matcher.concepts_in(query):
            names.extend(self.glossary.entry(key).names)
        if self.snapshot.has(GRAPH_FILE):  # a workspace without a graph still expands through the glossary
            for concept_id in self.resolver.find_in_text(query):
                concept = self.graph.concept(concept_id)
                names.extend((concept.name, *concept.aliases))
        folded = fold(query)
        return [name for name in dict.fromkeys(names) if fold(name) not in folded]

    @cached_property
    def cards(self) -> list[Card]:
        """The review cards of this generation's notes (`kg.cards.generate_cards`), built once."""
        from kg.cards import generate_cards

        return generate_cards(self.graph, self.chunks)

    @cached_property
    def gap_concept_ids(self) -> frozenset[str]:
        """Concepts the notes name but never explain (`kg.gaps.gap_concepts`), for hollow graph nodes."""
        from kg.gaps import gap_concepts

        return frozenset(gap_concepts(self.graph, self.chunks))

    @cached_property
    def _glossary_matcher(self):  # noqa: ANN202 - kg.matcher.TermMatcher over every glossary name
        from kg.matcher import TermMatcher
        from kg.names import STOP_NAMES

        return TermMatcher({name: entry.key for entry in self.glossary for name in entry.names}, ignore=STOP_NAMES)

    @cached_property
    def assistant(self) -> Assistant:
        from assistant.answer import Assistant

        return Assistant(self)

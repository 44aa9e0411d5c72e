"""Labelled quality of the concept graph on five corpora (held-out halves), the seed's reachability, and the
wikilinks of the Obsidian vault. Builds each corpus graph once (slow: the real parser and chunker, no embedder)."""

from __future__ import annotations

import pytest

from graph_labels import CORPUS_DIRS, corpus_records, load_labels, score_labels
from ingest.graph.build import build_graph
from kg.glossary import load_glossary
from kg.paths import plan_path
from kg.resolve import ConceptResolver
from studygraph.settings import GraphSettings

pytestmark = pytest.mark.slow
PRECISION = 0.85  # issue 14, "Done when"
FREQUENT_FOUND = 13  # of the 15 most frequent technical terms of each corpus (labels); see the report for which


@pytest.fixture(scope="module")
def graphs():
    glossary = load_glossary()
    return {name: build_graph(*corpus_records(name), None, glossary, GraphSettings()) for name in CORPUS_DIRS}


@pytest.mark.parametrize("corpus", list(CORPUS_DIRS))
def test_labelled_precision_on_the_test_half(graphs, corpus):
    score = score_labels(graphs[corpus], load_labels(corpus), corpus)
    found, labelled = map(int, score["concepts_found"].split("/"))
    assert found >= 0.75 * labelled, score  # the labels still describe this graph
    assert score["concept_precision"] >= PRECISION, score
    assert score["edge_precision"] >= PRECISION, score
    assert int(score["frequent_found"].split("/")[0]) >= FREQUENT_FOUND, score


def test_every_seed_concept_beyond_the_first_chapter_reaches_back(graphs):
    graph = graphs["seed"]
    _, chunks = corpus_records("seed")
    resolver = ConceptResolver(graph, load_glossary())
    first = graph.concepts[0].chapter
    by_id = {c.id: c for c in chunks}
    short = [c.name for c in graph.concepts
             if c.chapter != first and len(plan_path(graph, resolver, by_id, [c.id]).steps) < 2]
    assert not short
    steps = [s.concept for s in plan_path(graph, resolver, by_id, ["BERT"]).steps]
    assert steps.index("注意力机制") < steps.index("Transformer") < steps.index("BERT")


def test_obsidian_wikilinks_become_concepts_and_edges(graphs):
    graph = graphs["obsidian-thesis-en"]
    rules = {ev.rule for e in graph.edges() for ev in e.evidence}
    assert "wikilink" in rules
    names = {c.name for c in graph.concepts}
    assert {"Attention", "Token Embedding", "Gradient Boosting", "TabTransformer"} <= names
    assert not [n for n in names if n.startswith("@") or n.startswith("[[")]  # citation keys are sources

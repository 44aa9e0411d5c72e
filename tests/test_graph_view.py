"""The graph page's default picture: an overview with chapters as clusters, every drawn node labelled."""

from __future__ import annotations

from conftest import SEED
from graph_records import note_records
from ingest.graph.build import build_graph
from kg.glossary import load_glossary
from studygraph.settings import GraphSettings
from ui.views.graph import HUB_LABEL_PX, LABEL_PX, OVERVIEW_PER_GROUP, _font, build_view, overview_view


def test_the_seed_overview_clusters_chapters_and_draws_few_readable_nodes():
    graph = build_graph(*note_records(SEED.read_text(encoding="utf-8"), SEED.name), None, load_glossary(),
                        GraphSettings())
    view = overview_view(graph)
    chapters = {c.chapter for c in graph.concepts if c.chapter}
    assert len(view.hubs) >= min(len(chapters), 10)
    assert len(view.concepts) <= len(view.hubs) * (OVERVIEW_PER_GROUP + 1) < len(graph)  # an overview, not a ball
    assert view.truncated == len(graph) - len(view.concepts)
    drawn = {c.id for c in view.concepts}
    assert all(e.source in drawn and e.target in drawn for e in view.edges)
    hub_of = {c.chapter: c.id for c in view.concepts if c.id in view.hubs}
    for concept in view.concepts:  # every member is joined to its chapter's hub, so the layout clusters it
        if concept.id not in view.hubs:
            assert any(e.source == concept.id and e.target == hub_of[concept.chapter] for e in view.edges)
    assert "数学基础" in {graph.concept(h).name for h in view.hubs}
    assert min(_font(c, view, None)["size"] for c in view.concepts) == LABEL_PX >= 12
    assert _font(graph.concept(next(iter(view.hubs))), view, None)["size"] == HUB_LABEL_PX
    # Opening a chapter draws all of it.
    full = build_view(graph, None, 1, ["prerequisite", "used_in", "part_of", "related"], ["数学基础"], 400)
    assert {c.id for c in graph.concepts if c.chapter == "数学基础"} == {c.id for c in full.concepts}


def test_gaps_are_drawn_hollow_and_everything_else_filled():
    """A concept the notes name but never explain (kg.gaps) is a hollow node: white fill, its colour as border."""
    from kg.gaps import gap_concepts
    from ui.views.graph import chapters_of, colour_of, node_colour

    sections, chunks = note_records(SEED.read_text(encoding="utf-8"), SEED.name)
    graph = build_graph(sections, chunks, None, load_glossary(), GraphSettings())
    gaps = frozenset(gap_concepts(graph, {c.id: c for c in chunks}))
    assert gaps and len(gaps) < len(graph)  # some, not all, concepts are only named
    chapters = chapters_of(graph)
    gap = graph.concept(next(iter(gaps)))
    hollow = node_colour(gap, "chapter", chapters, gaps)
    assert hollow["background"] == "#ffffff" and hollow["border"] == colour_of(gap, "chapter", chapters)
    explained = next(c for c in graph.concepts if c.id not in gaps)
    assert node_colour(explained, "chapter", chapters, gaps) == colour_of(explained, "chapter", chapters)

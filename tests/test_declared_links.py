"""Notes that declare their links: wikilinks, front matter aliases, tags and prerequisites (a small vault)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES
from graph_records import folder_records
from ingest.graph.build import build_graph
from ingest.graph.declared import WIKILINK, read_front_matter
from kg.glossary import load_glossary
from kg.resolve import ConceptResolver
from studygraph.settings import GraphSettings

VAULT = FIXTURES / "vault"


def _front_matter(folder: Path) -> dict[str, dict]:
    return {p.name: read_front_matter(p.read_text(encoding="utf-8")) for p in folder.glob("*.md")}


@pytest.fixture(scope="module")
def vault():
    sections, chunks = folder_records(VAULT)
    glossary = load_glossary()
    graph = build_graph(sections, chunks, None, glossary, GraphSettings(), front_matter=_front_matter(VAULT))
    return graph, ConceptResolver(graph, glossary)


def _id(resolver: ConceptResolver, name: str) -> str:
    found = resolver.resolve(name)
    assert found.concept_id and found.how != "fuzzy", name
    return found.concept_id


def _rules(graph, a: str, b: str, type_: str) -> set[str]:
    edge = graph.edge(a, b, type_)
    return {ev.rule for ev in edge.evidence} if edge else set()


def test_wikilink_syntax_target_heading_alias_and_embeds():
    found = [(m.group("embed"), m.group("target"), m.group("heading"), m.group("alias"))
             for m in WIKILINK.finditer("[[A]] [[B#Part|shown]] [[#Local]] ![[img.png]]")]
    assert found == [("", "A", None, None), ("", "B", "Part", "shown"), ("", "", "Local", None),
                     ("!", "img.png", None, None)]


def test_front_matter_is_read_and_bad_yaml_is_ignored():
    assert read_front_matter("---\naliases: [x, y]\n---\n# T\n") == {"aliases": ["x", "y"]}
    assert read_front_matter("---\naliases: [x\n---\n# T\n") == {}
    assert read_front_matter("# No front matter\n") == {}


def test_front_matter_aliases_merge_names_across_languages(vault):
    graph, resolver = vault
    attention = _id(resolver, "Attention")
    assert _id(resolver, "注意力机制") == attention  # declared in the note's front matter
    assert _id(resolver, "Bidirectional Encoder Representations from Transformers") == _id(resolver, "BERT")


def test_declared_prerequisites_and_recalled_links_become_strong_edges(vault):
    graph, resolver = vault
    transformer = _id(resolver, "Transformer")
    front = graph.edge(_id(resolver, "Positional Encoding"), transformer, "prerequisite")
    assert front is not None and "front_matter" in {ev.rule for ev in front.evidence}
    assert front.weight >= 0.9  # a prerequisite the user wrote outranks any guessed edge
    assert {"front_matter", "wikilink"} <= _rules(graph, _id(resolver, "Attention"), transformer, "prerequisite")
    assert "wikilink" in _rules(graph, transformer, _id(resolver, "BERT"), "prerequisite")  # "builds on [[...]]"
    # "We will see [[Fine-tuning]] later": the link points ahead, so BERT comes first.
    assert "wikilink" in _rules(graph, _id(resolver, "BERT"), _id(resolver, "Fine-tuning"), "prerequisite")


def test_a_link_without_a_cue_relates_the_notes_once(vault):
    graph, resolver = vault
    pair = {_id(resolver, "Positional Encoding"), _id(resolver, "Transformer")}
    related = [e for e in graph.edges("related") if {e.source, e.target} == pair]
    assert len(related) == 1 and {ev.rule for ev in related[0].evidence} == {"wikilink"}


def test_tags_group_notes_and_citation_keys_are_no_concepts(vault):
    graph, resolver = vault
    topic = _id(resolver, "deep learning")
    assert {_id(resolver, "Attention"), _id(resolver, "Transformer")} <= graph.parts_of(topic)
    assert not [c.name for c in graph.concepts if c.name.startswith("@") or "vaswani" in c.name.lower()]
    for edge in graph.edges():
        assert edge.evidence, edge


def test_front_matter_reaches_the_graph_through_ingest_and_survives_an_unchanged_reingest(tmp_path: Path) -> None:
    """The pipeline keeps each note's front matter with its file record, so the declared prerequisite is an edge
    after the first ingest and still after an incremental one that reads no file again."""
    import shutil

    from conftest import FakeEmbedder
    from ingest.pipeline import ingest_paths
    from kg.graph import GRAPH_FILE, ConceptGraph
    from studygraph.settings import Settings
    from studygraph.workspace import Workspace

    notes = shutil.copytree(VAULT, tmp_path / "vault")
    settings = Settings(workspace=tmp_path / "ws")
    embedder = FakeEmbedder()

    def declared_prerequisites() -> set[tuple[str, str]]:
        snapshot = Workspace(settings.workspace).snapshot(embedder=embedder.name)
        graph = ConceptGraph.load(snapshot.path(GRAPH_FILE))
        return {(graph.concept(e.source).name, graph.concept(e.target).name) for e in graph.edges("prerequisite")
                if "front_matter" in {ev.rule for ev in e.evidence}}

    ingest_paths([notes], settings, embedder)
    first = declared_prerequisites()
    assert ("Positional Encoding", "Transformer") in first
    again = ingest_paths([notes], settings, embedder)
    assert again.read == 0 and not again.written  # nothing re-read, nothing rewritten
    (notes / "BERT.md").write_text((notes / "BERT.md").read_text(encoding="utf-8") + "\nMore text.\n",
                                   encoding="utf-8")
    changed = ingest_paths([notes], settings, embedder)  # another note changed: Transformer.md is carried
    assert changed.read == 1 and changed.written
    assert declared_prerequisites() == first

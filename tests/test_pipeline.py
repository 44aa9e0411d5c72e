"""The ingest pipeline on real notes with the fake embedder: workspace contents, incremental behaviour, errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPORA, CORPUS_NOTES, FIXTURE_NOTES, SEED, FakeEmbedder
from ingest.pipeline import ingest_paths, read_note_files
from kg.graph import ConceptGraph
from retrieval.store import read_chunks, read_sections
from studygraph.errors import InputError, WorkspaceError
from studygraph.records import EDGE_TYPES
from studygraph.settings import IngestSettings, Settings
from studygraph.workspace import Workspace


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering which texts it was asked to embed."""

    def __init__(self, name: str = "fake:hashed-bow"):
        super().__init__(name=name)
        self.embedded: list[str] = []

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().encode_documents(texts)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(FIXTURE_NOTES, folder)
    return folder


def _settings(tmp_path: Path, **ingest) -> Settings:
    return Settings(workspace=tmp_path / "ws", ingest=IngestSettings(**ingest))


def _chunks(settings: Settings) -> list:
    return read_chunks(Workspace(settings.workspace).snapshot())


def test_ingest_writes_a_complete_workspace(tmp_path: Path, notes: Path):
    settings, stages = _settings(tmp_path), []
    report = ingest_paths([notes], settings, CountingEmbedder(), progress=lambda *a: stages.append(a))
    snapshot = Workspace(settings.workspace).snapshot(embedder="fake:hashed-bow", dim=256)
    for component in ("files.json", "sections.jsonl", "chunks.jsonl", "faiss.index", "lexical", "vectors"):
        assert snapshot.has(component), component
    chunks, sections = read_chunks(snapshot), read_sections(snapshot)
    assert (report.read, report.unchanged, report.chunks, report.sections) == (4, 0, len(chunks), len(sections))
    assert {c.source for c in chunks} == {"01-math.md", "02-deep-learning.md", "03-transformers.md", "04-english.md"}
    assert [n.chunks for n in read_note_files(snapshot)] == [
        sum(c.source == s for c in chunks) for s in sorted({c.source for c in chunks})]
    lora = next(c for c in chunks if c.heading_path[-1] == "3.4 LoRA")
    assert "低秩矩阵" in lora.text and lora.language == "zh"
    assert snapshot.manifest.counts["chunks"] == len(chunks)
    assert snapshot.manifest.chunker["max_tokens"] == 256
    assert ("read", 4, 4) in stages
    assert set(report.to_json()) == {"workspace", "files", "sections", "chunks", "concepts", "edges", "seconds"}
    assert set(report.to_json()["files"]) == {"read", "unchanged", "skipped", "repaired"}
    assert set(report.edges) == set(EDGE_TYPES)
    graph = ConceptGraph.load(snapshot.path("graph.json"))
    assert report.concepts == len(graph) > 0 and snapshot.manifest.counts["concepts"] == len(graph)
    assert report.edges == {t: len(graph.edges(t)) for t in EDGE_TYPES}


def test_unchanged_notes_do_no_work(tmp_path: Path, notes: Path):
    settings, embedder = _settings(tmp_path), CountingEmbedder()
    first = ingest_paths([notes], settings, embedder)
    embedder.embedded.clear()
    again = ingest_paths([notes], settings, embedder)
    assert (again.read, again.unchanged, again.written, again.generation) == (0, 4, False, first.generation)
    assert again.chunks == first.chunks and embedder.embedded == []
    assert Workspace(settings.workspace).read_manifest().generation == first.generation


def test_a_changed_bm25_setting_rebuilds_the_lexical_index_though_no_note_changed(tmp_path: Path, notes: Path):
    import json

    from retrieval.indexing import LEXICAL_CONFIG

    settings, embedder = _settings(tmp_path), CountingEmbedder()
    first = ingest_paths([notes], settings, embedder)
    embedder.embedded.clear()
    changed = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"heading_repeat": 4})})
    again = ingest_paths([notes], changed, embedder)
    assert again.written and again.generation == first.generation + 1 and again.unchanged == 4
    built = Workspace(settings.workspace).snapshot()
    assert json.loads(built.path(LEXICAL_CONFIG).read_text(encoding="utf-8"))["heading_repeat"] == 4
    assert not [t for t in embedder.embedded if t in {c.context_text() for c in _chunks(settings)}], "no re-embedding"
    third = ingest_paths([notes], changed, embedder)
    assert not third.written and third.generation == again.generation


def test_editing_one_note_replaces_only_its_chunks(tmp_path: Path, notes: Path):
    settings, embedder = _settings(tmp_path), CountingEmbedder()
    ingest_paths([notes], settings, embedder)
    before = {c.id: c for c in _chunks(settings)}
    target = notes / "04-english.md"
    target.write_text(target.read_text(encoding="utf-8").replace("running averages", "moving averages"),
                      encoding="utf-8")
    embedder.embedded.clear()
    report = ingest_paths([notes], settings, embedder)
    after = {c.id: c for c in _chunks(settings)}
    assert (report.read, report.unchanged) == (1, 3)
    assert {c.source for c in before.values() if c.id not in after} == {"04-english.md"}
    new = [c for c in after.values() if c.id not in before]
    assert len(new) == 1 and "moving averages" in new[0].text
    chunk_texts = {c.context_text() for c in after.values()}
    assert [t for t in embedder.embedded if t in chunk_texts] == [new[0].context_text()], "only the new chunk"


def test_deleted_note_drops_its_chunks_and_other_folders_stay(tmp_path: Path, notes: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.md").write_text("# Extra\n\nKnowledge distillation trains a small student.\n", encoding="utf-8")
    settings = _settings(tmp_path)
    ingest_paths([notes], settings, CountingEmbedder())
    ingest_paths([other], settings, CountingEmbedder())
    (notes / "02-deep-learning.md").unlink()
    report = ingest_paths([notes], settings, CountingEmbedder())
    sources = {c.source for c in _chunks(settings)}
    assert report.dropped == ["02-deep-learning.md"] and report.unchanged == 3
    assert sources == {"01-math.md", "03-transformers.md", "04-english.md", "extra.md"}


def test_single_file_of_an_ingested_folder_keeps_its_name(tmp_path: Path, notes: Path):
    (notes / "sub").mkdir()
    shutil.move(notes / "04-english.md", notes / "sub" / "04-english.md")
    settings = _settings(tmp_path)
    ingest_paths([notes], settings, CountingEmbedder())
    report = ingest_paths([notes / "sub" / "04-english.md"], settings, CountingEmbedder())
    assert (report.read, report.unchanged, report.dropped) == (0, 1, [])
    assert "sub/04-english.md" in {c.source for c in _chunks(settings)}


def test_chunker_change_or_rebuild_rechunks_everything(tmp_path: Path, notes: Path):
    settings = _settings(tmp_path)
    ingest_paths([notes], settings, CountingEmbedder())
    smaller = _settings(tmp_path, chunk_max_tokens=64)
    assert ingest_paths([notes], smaller, CountingEmbedder()).read == 4
    assert all(c.line_end - c.line_start < 20 for c in _chunks(smaller))
    assert ingest_paths([notes], smaller, CountingEmbedder(), rebuild=True).read == 4


def test_another_embedder_is_refused_unless_rebuilding(tmp_path: Path, notes: Path):
    settings = _settings(tmp_path)
    ingest_paths([notes], settings, CountingEmbedder())
    with pytest.raises(WorkspaceError, match="--rebuild"):
        ingest_paths([notes], settings, CountingEmbedder(name="fake:other"))
    report = ingest_paths([notes], settings, CountingEmbedder(name="fake:other"), rebuild=True)
    assert report.read == 4
    assert Workspace(settings.workspace).read_manifest().embedder["name"] == "fake:other"


def test_bad_files_are_skipped_with_reasons_and_the_rest_ingested(tmp_path: Path, notes: Path):
    (notes / "empty.md").write_bytes(b"")
    (notes / "blank.md").write_text("\n  \n", encoding="utf-8")
    (notes / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (notes / "huge.md").write_text("x" * 200_000, encoding="utf-8")
    report = ingest_paths([notes], _settings(tmp_path, max_file_mb=0.1), CountingEmbedder())
    reasons = {Path(s["path"]).name: s["reason"] for s in report.skipped}
    assert set(reasons) == {"empty.md", "blank.md", "binary.md", "huge.md"}
    assert reasons["empty.md"] == reasons["blank.md"] == "empty" and "MB" in reasons["huge.md"]
    assert report.read == 4


def test_nothing_to_ingest_is_one_clear_error(tmp_path: Path):
    settings = _settings(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        ingest_paths([tmp_path / "missing"], settings, CountingEmbedder())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .md, .markdown, .txt files"):
        ingest_paths([tmp_path / "empty"], settings, CountingEmbedder())
    (tmp_path / "empty" / "zero.md").write_bytes(b"")
    with pytest.raises(InputError, match="zero.md: empty"):
        ingest_paths([tmp_path / "empty"], settings, CountingEmbedder())
    assert not Workspace(settings.workspace).exists()


def test_originals_are_not_modified(tmp_path: Path, notes: Path):
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in notes.iterdir()}
    ingest_paths([notes], _settings(tmp_path), CountingEmbedder())
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in notes.iterdir()} == before


def test_encodings_are_decoded_and_recorded(tmp_path: Path):
    folder = tmp_path / "enc"
    folder.mkdir()
    text = "# 注意力机制\n\n注意力机制根据查询与键的相似度，对值做加权求和。\n"
    (folder / "gbk.md").write_bytes(text.encode("gb18030"))
    (folder / "bom.md").write_bytes(text.encode("utf-8-sig"))
    settings = _settings(tmp_path)
    ingest_paths([folder], settings, CountingEmbedder())
    snapshot = Workspace(settings.workspace).snapshot()
    assert all(c.text.startswith("注意力机制根据") for c in read_chunks(snapshot))
    encodings = {n.source: n.encoding.lower() for n in read_note_files(snapshot)}
    assert encodings["gbk.md"] in {"gb18030", "gbk", "gb2312"}


@pytest.mark.slow
def test_seed_and_corpora_ingest_completely(tmp_path: Path):
    settings = _settings(tmp_path, extensions=[".md"])
    report = ingest_paths([CORPORA, SEED], settings, CountingEmbedder())
    assert (report.read, report.skipped) == (1 + sum(CORPUS_NOTES.values()), [])
    files = json.loads((Workspace(settings.workspace).snapshot().path("files.json")).read_text(encoding="utf-8"))
    assert {r["kind"] for r in files["roots"].values()} == {"folder", "file"}
    by_source = {n["source"]: n for n in files["files"]}
    assert by_source["ai-knowledge-system.md"]["sections"] == 80
    assert all(n["chunks"] > 0 for n in files["files"])


def test_a_name_already_taken_by_another_folder_is_skipped(tmp_path: Path):
    for folder, names in (("one", ["readme.md"]), ("two", ["readme.md", "other.md"])):
        (tmp_path / folder).mkdir()
        for name in names:
            (tmp_path / folder / name).write_text(f"# {folder} {name}\n\ntext\n", encoding="utf-8")
    settings = _settings(tmp_path)
    ingest_paths([tmp_path / "one"], settings, CountingEmbedder())
    report = ingest_paths([tmp_path / "two"], settings, CountingEmbedder())
    assert report.read == 1 and "already ingested from" in report.skipped[0]["reason"]
    assert {c.heading_path[0] for c in _chunks(settings)} == {"one readme.md", "two other.md"}

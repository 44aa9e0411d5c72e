"""Retrieval evaluation: gold matching, metrics, the CLI (`search`, `eval retrieval`), and the dev-set targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SEED, FakeEmbedder, real_workspace
from retrieval.evaluate import (
    QAItem,
    evaluate,
    first_relevant_rank,
    heading_matches,
    is_relevant,
    load_qa,
    metrics,
    normalize_heading,
    parse_ks,
)
from retrieval_corpus import build_workspace, chunk_under, corpus_chunks, make_chunk
from studygraph.errors import InputError
from studygraph.records import Hit

DATA = Path(__file__).parent / "data"
# Every dev set is split once, for good, into a "tune" half (weights were fitted on it) and a "test" half
# (only reported; the slow tests below assert on it): see bench/tune_retrieval.py.
DEV_SETS = {name: DATA / f"{name}-dev-qa.jsonl" for name in ("seed", "paddle", "cs231n", "ailearning", "obsidian")}
NOTES = {"seed": [SEED], "paddle": [DATA / "corpora" / "paddle-dl-zh"],
         "cs231n": [DATA / "corpora" / "cs231n-notes-en"], "ailearning": [DATA / "corpora" / "ailearning-notes-zh"],
         "obsidian": [DATA / "corpora" / "obsidian-thesis-en"]}


def write_qa(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- gold matching and metrics


@pytest.mark.parametrize(("written", "gold"), [
    ("6.3 LLaMA", "LLaMA"), ("四、空洞卷积的感受野", "空洞卷积的感受野"), ("1. 为什么不能全零初始化？", "为什么不能全零初始化?"),
    ("**Adam**", "adam"), ("4.2 卷积神经网络（CNN）", "卷积神经网络(CNN)"), ("SVM  vs.   Softmax", "svm vs. softmax"),
    ("一、3D卷积", "3D卷积"), ("一、1*1 卷积", "1*1 卷积"), ("2 特点", "特点"), ("(3) Pooling", "pooling"),
])
def test_headings_compare_without_numbering_markup_width_or_case(written: str, gold: str) -> None:
    assert normalize_heading(written) == normalize_heading(gold)


def test_digits_that_are_part_of_a_name_are_not_numbering() -> None:
    assert normalize_heading("3D卷积") != normalize_heading("D卷积")
    assert normalize_heading("1x1 Convolution") == "1x1 convolution"


def test_a_gold_path_must_appear_as_consecutive_headings() -> None:
    path = ("层归一化详解", "提出背景")
    assert heading_matches(path, "提出背景") and heading_matches(path, "层归一化详解 > 提出背景")
    assert not heading_matches(("可变形卷积详解", "提出背景"), "层归一化详解 > 提出背景")
    assert not heading_matches(path, "提出")  # whole headings, not substrings


def test_relevance_by_heading_or_by_quote() -> None:
    chunk = make_chunk(("Notes", "6.3 LLaMA"), "微调方法：LoRA（Low-Rank\n  Adaptation）", 0)
    assert is_relevant(chunk, QAItem(q="x", heading="LLaMA"))
    assert is_relevant(chunk, QAItem(q="x", quote="lora（low-rank adaptation）"))
    assert not is_relevant(chunk, QAItem(q="x", heading="GPT", quote="Prefix Tuning"))


def test_metrics_from_first_relevant_ranks() -> None:
    m = metrics([1, 3, None, 6], ks=[1, 5, 10])
    assert m == {"recall@1": 0.25, "recall@5": 0.5, "recall@10": 0.75, "mrr": pytest.approx((1 + 1 / 3 + 1 / 6) / 4)}


def test_evaluate_scores_every_mode_and_language() -> None:
    chunks = corpus_chunks()
    lora, gan = chunk_under(chunks, "LLaMA"), chunk_under(chunks, "GAN")
    items = [QAItem(q="微调", heading="LLaMA", lang="zh"), QAItem(q="GAN", heading="GAN", lang="en")]

    def scripted(queries, mode, k):  # dense misses the Chinese question, lexical ranks GAN second
        order = {"dense": {"微调": [gan], "GAN": [gan]}, "lexical": {"微调": [lora], "GAN": [lora, gan]},
                 "hybrid": {"微调": [lora], "GAN": [gan]}}[mode]
        return [[Hit(rank=i + 1, chunk=c, score=1.0) for i, c in enumerate(order[q][:k])] for q in queries]

    report = evaluate(items, scripted, ks=[1, 5])
    assert report["modes"]["dense"] == {"recall@1": 0.5, "recall@5": 0.5, "mrr": 0.5}
    assert report["modes"]["lexical"] == {"recall@1": 0.5, "recall@5": 1.0, "mrr": 0.75}
    assert report["modes"]["hybrid"]["recall@1"] == 1.0
    assert report["by_lang"]["zh"]["dense"]["recall@5"] == 0.0
    assert report["questions"][1]["ranks"] == {"dense": 1, "lexical": 2, "hybrid": 1}
    assert first_relevant_rank([], items[0]) is None


def test_question_sets_are_validated(tmp_path: Path) -> None:
    good = write_qa(tmp_path / "ok.jsonl", [{"q": "LoRA 是什么", "heading": "LLaMA", "lang": "zh"}])
    assert load_qa(good) == [QAItem(q="LoRA 是什么", heading="LLaMA", lang="zh")]
    for rows, message in (([{"heading": "x"}], "no question"), ([{"q": "x"}], "neither"), ([], "empty")):
        with pytest.raises(InputError, match=message):
            load_qa(write_qa(tmp_path / "bad.jsonl", rows))
    (tmp_path / "broken.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        load_qa(tmp_path / "broken.jsonl")
    with pytest.raises(InputError):
        load_qa(tmp_path / "missing.jsonl")


def test_recall_cutoffs_are_parsed() -> None:
    assert parse_ks("10, 1,5,5") == [1, 5, 10]
    for bad in ("", "a,b", "0,5"):
        with pytest.raises(InputError):
            parse_ks(bad)


@pytest.mark.parametrize("name", DEV_SETS)
def test_dev_sets_are_well_formed_and_split_in_halves(name: str) -> None:
    items = load_qa(DEV_SETS[name])
    assert len(items) >= (40 if name == "seed" else 20)
    assert len({i.q for i in items}) == len(items)
    for lang in {i.lang for i in items}:  # each language is halved, so both halves ask in both languages
        halves = [sum(1 for i in items if i.lang == lang and i.split == s) for s in ("tune", "test")]
        assert abs(halves[0] - halves[1]) <= 1, (lang, halves)
    assert [i.q for i in load_qa(DEV_SETS[name], split="test")] == [i.q for i in items if i.split == "test"]
    if name == "seed":
        langs = [i.lang for i in items]
        assert langs.count("zh") == langs.count("en")


def test_a_question_set_can_be_read_by_half(tmp_path: Path) -> None:
    qa = write_qa(tmp_path / "qa.jsonl", [{"q": "a", "heading": "A", "split": "tune"},
                                          {"q": "b", "heading": "B", "split": "test"}, {"q": "c", "heading": "C"}])
    assert [i.q for i in load_qa(qa, split="test")] == ["b"] and len(load_qa(qa)) == 3
    with pytest.raises(InputError, match="split"):
        load_qa(write_qa(tmp_path / "bad.jsonl", [{"q": "a", "heading": "A", "split": "train"}]))
    with pytest.raises(InputError, match="no 'tune' questions"):
        load_qa(write_qa(tmp_path / "none.jsonl", [{"q": "a", "heading": "A", "split": "test"}]), split="tune")


# --------------------------------------------------------------------------- the CLI (fake embedder at the seam)


@pytest.fixture
def fake_cli(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, Path]:
    monkeypatch.setenv("STUDYGRAPH_EMBEDDER__MODEL", "fake:hashed-bow")
    monkeypatch.setattr("retrieval.embedders.build_embedder", lambda settings: FakeEmbedder())
    root = clean_env / "ws"
    build_workspace(root, corpus_chunks(), FakeEmbedder())
    return CliRunner(), root


def test_search_json_prints_one_line_per_query(fake_cli, tmp_path: Path) -> None:
    from ui.cli import app

    runner, root = fake_cli
    queries = tmp_path / "queries.txt"
    queries.write_text("怎么用少量参数微调大模型\n\nnp.linalg.eig\n", encoding="utf-8")
    result = runner.invoke(app, ["search", "--queries", str(queries), "--k", "2", "--json", "-w", str(root)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["怎么用少量参数微调大模型", "np.linalg.eig"]
    first = lines[0]["hits"][0]
    lora = chunk_under(corpus_chunks(), "LLaMA")
    assert first["chunk_id"] == lora.id and first["rank"] == 1 and first["heading_path"] == list(lora.heading_path)
    assert {"source", "line_start", "line_end", "text", "score"} <= set(first)
    assert lines[1]["hits"][0]["chunk_id"] == chunk_under(corpus_chunks(), "NumPy").id


def test_search_reads_queries_from_stdin(fake_cli) -> None:
    from ui.cli import app

    runner, root = fake_cli
    result = runner.invoke(app, ["search", "--queries", "-", "--json", "--mode", "lexical", "-w", str(root)],
                           input="KMeans\nBatch normalization\n")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["KMeans", "Batch normalization"]
    empty = runner.invoke(app, ["search", "--queries", "-", "-w", str(root)], input="\n\n")
    assert empty.exit_code == InputError.exit_code and "no query" in empty.output


def test_search_table_and_modes(fake_cli) -> None:
    from ui.cli import app

    runner, root = fake_cli
    result = runner.invoke(app, ["search", "KMeans n_clusters", "--mode", "lexical", "-w", str(root)])
    assert result.exit_code == 0 and "K-means" in result.stdout
    bad = runner.invoke(app, ["search", "x", "--mode", "fuzzy", "-w", str(root)])
    assert bad.exit_code != 0
    neither = runner.invoke(app, ["search", "-w", str(root)])
    assert neither.exit_code == InputError.exit_code and "QUERY" in neither.output


def test_search_without_a_workspace_says_what_to_run(fake_cli, tmp_path: Path) -> None:
    from ui.cli import app

    runner, _ = fake_cli
    result = runner.invoke(app, ["search", "LoRA", "-w", str(tmp_path / "none")])
    assert result.exit_code != 0 and "studygraph ingest" in result.output


def test_eval_retrieval_table_and_json(fake_cli, tmp_path: Path) -> None:
    from ui.cli import app

    runner, root = fake_cli
    qa = write_qa(tmp_path / "qa.jsonl", [
        {"q": "怎么用少量参数微调大模型", "heading": "LLaMA", "lang": "zh"},
        {"q": "how to compute eigenvalues with numpy", "quote": "np.linalg.eig(A)", "lang": "en"},
    ])
    table = runner.invoke(app, ["eval", "retrieval", "--qa", str(qa), "--k", "1,3", "-w", str(root)])
    assert table.exit_code == 0, table.output
    assert "recall@1" in table.stdout and "hybrid (zh)" in table.stdout
    result = runner.invoke(app, ["eval", "retrieval", "--qa", str(qa), "--k", "1,3", "--json", "-w", str(root)])
    report = json.loads(result.stdout)
    assert report["n"] == 2 and set(report["modes"]) == {"dense", "lexical", "hybrid"}
    assert report["modes"]["hybrid"]["recall@3"] == 1.0


# --------------------------------------------------------------------------- targets on the test halves (real models)

# Floors on the held-out halves with the default embedder (USE multilingual v3) and the tuned fusion: the
# measured values, a question below, never lowered (numbers and how they were tuned: RetrievalSettings; reproduce
# with bench/tune_retrieval.py). Measured: seed 0.933, paddle 0.917, cs231n 0.833, ailearning 0.917, obsidian
# 0.833; the 0.95 on every half is not met (the README says where search still misses).
HYBRID_FLOOR = {"seed": 0.9, "paddle": 0.9, "cs231n": 0.75, "ailearning": 0.83, "obsidian": 0.75}
CHINESE_DENSE_FLOOR = 0.60  # dense alone, the Chinese test questions of the three Chinese sets together (0.69)


@pytest.fixture(scope="session")
def test_halves(tmp_path_factory: pytest.TempPathFactory, bundled_embedder) -> dict:
    """Every set's test-half report (evaluate()), searched with the default settings."""
    from assistant.service import StudyService
    from retrieval.search import SearchParams
    from studygraph.settings import Settings

    reports = {}
    for name, notes in NOTES.items():
        root = real_workspace(tmp_path_factory, name, notes)
        searcher = StudyService(Settings(workspace=root), embedder=bundled_embedder).searcher
        reports[name] = evaluate(load_qa(DEV_SETS[name], split="test"),
                                 lambda qs, mode, k, s=searcher: s.search_many(qs, SearchParams(k=k, mode=mode)),
                                 ks=[5])
    return reports


def pooled_recall(reports: list[dict], mode: str, lang: str | None = None) -> float:
    ranks = [q["ranks"][mode] for r in reports for q in r["questions"] if lang is None or q["lang"] == lang]
    return sum(1 for rank in ranks if rank is not None and rank <= 5) / len(ranks)


@pytest.mark.slow
@pytest.mark.parametrize("name", DEV_SETS)
def test_hybrid_search_on_each_held_out_half(name: str, test_halves: dict) -> None:
    recall = {mode: m["recall@5"] for mode, m in test_halves[name]["modes"].items()}
    assert recall["hybrid"] >= HYBRID_FLOOR[name], recall
    assert recall["hybrid"] >= recall["dense"] and recall["hybrid"] >= recall["lexical"], recall


@pytest.mark.slow
def test_hybrid_search_beats_each_part_over_all_held_out_questions(test_halves: dict) -> None:
    reports = list(test_halves.values())
    hybrid = pooled_recall(reports, "hybrid")
    assert hybrid >= pooled_recall(reports, "dense") and hybrid >= pooled_recall(reports, "lexical")


@pytest.mark.slow
def test_dense_search_reads_chinese_questions(test_halves: dict) -> None:
    reports = [test_halves[name] for name in ("seed", "paddle", "ailearning")]
    assert pooled_recall(reports, "dense", lang="zh") >= CHINESE_DENSE_FLOOR

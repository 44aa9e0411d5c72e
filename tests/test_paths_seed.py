"""Study paths on the seed notes, built by the real ingest pipeline and graph builder (fake embedder for speed)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import SEED, FakeEmbedder
from kg.paths import known_closure, plan_path


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory):
    """The seed ingested once for this module: (service, settings)."""
    from assistant.service import StudyService
    from ingest.pipeline import ingest_paths
    from studygraph.settings import Settings

    embedder = FakeEmbedder()  # chunks are still cut with the default embedder's tokenizer
    settings = Settings(workspace=tmp_path_factory.mktemp("seed-paths") / "ws")
    ingest_paths([SEED], settings, embedder=embedder)
    return StudyService(settings, embedder=embedder)


def _plan(service, goals, known=(), not_known=()):
    return plan_path(service.graph, service.resolver, service.chunks, goals, known, not_known)


def _id(service, name: str) -> str:
    res = service.resolver.resolve(name)
    assert res.concept_id, f"{name} does not resolve on the seed"
    return res.concept_id


def _names(path) -> list[str]:
    return [s.concept for s in path.steps]


def _assert_well_ordered(service, path) -> None:
    """Every step comes after each of its prerequisites and tools that are also steps; goals close the path."""
    graph = service.graph
    position = {s.concept_id: i for i, s in enumerate(path.steps)}
    for step in path.steps:
        for t in ("prerequisite", "used_in"):
            for edge in graph.in_edges(step.concept_id, t):
                if edge.source in position:
                    assert position[edge.source] < position[step.concept_id], (edge.source, step.concept)
    assert len(position) == len(path.steps)
    assert all(s.stage == "goal" for s in path.steps if s.concept_id in {g["concept_id"] for g in path.goals})


def test_path_to_lora_goes_through_attention_then_transformer(seed):
    path = _plan(seed, ["LoRA"])
    names = _names(path)
    assert path.goals[0]["concept"] == "LoRA" and names[-1] == "LoRA"
    assert names.index("注意力机制") < names.index("Transformer") < names.index("LoRA")
    _assert_well_ordered(seed, path)
    for step in path.steps:
        assert step.sources or step.stage != "goal"
        assert all(src.chunk_id in seed.chunks for src in step.sources)


def test_path_to_lora_does_not_leak_unrelated_chapters(seed):
    graph = seed.graph
    path = _plan(seed, ["LoRA"])
    ids = {s.concept_id for s in path.steps}
    # sections of the seed's chapters 13 (applications) and 15 (career): nothing on the way to LoRA comes from them
    unrelated = ("推荐系统", "面试准备", "职业发展", "应用领域", "学习路径")
    sources = [(step.concept, " > ".join(seed.chunks[src.chunk_id].heading_path))
               for step in path.steps for src in step.sources]
    assert sources and not [(c, h) for c, h in sources if any(name in h for name in unrelated)]
    recsys = _id(seed, "推荐系统")
    assert recsys not in ids
    only_recsys = {p for p in graph.parts_of(recsys, transitive=True)
                   if {e.target for e in graph.out_edges(p, "part_of")} == {recsys}}
    assert not ids & only_recsys


def test_path_to_bert_skips_everything_known(seed):
    path = _plan(seed, ["BERT"], known=["Python编程", "数学基础"])
    names = _names(path)
    assert "Transformer" in names and names[-1] == "BERT"
    excluded = set()
    for name in ("Python编程", "数学基础"):
        cid = _id(seed, name)
        excluded |= {cid} | seed.graph.parts_of(cid, transitive=True)
    assert not {s.concept_id for s in path.steps} & excluded
    assert {seed.graph.concept(_id(seed, n)).name for n in ("数学基础", "线性代数", "Python编程")} <= set(path.known)
    _assert_well_ordered(seed, path)


def test_path_to_the_english_name_resolves_to_the_chinese_concept(seed):
    path = _plan(seed, ["attention mechanism"])
    assert path.goals[0]["concept"] == "注意力机制" and _names(path)[-1] == "注意力机制"
    assert not path.unknown_goals


def test_unknown_goal_gets_suggestions(seed):
    path = _plan(seed, ["量子纠缠通信", "Transformer"])
    assert [u["query"] for u in path.unknown_goals] == ["量子纠缠通信"]
    assert path.unknown_goals[0]["suggestions"]
    assert _names(path)[-1] == "Transformer"


@pytest.mark.parametrize("goal, known, before", [
    ("GPT", [], ["注意力机制", "Transformer"]),
    ("BERT", ["注意力机制"], ["Transformer"]),
    ("主成分分析", [], ["线性代数"]),
    ("GPT", ["深度学习"], ["Transformer"]),
])
def test_more_goals_keep_prerequisites_first_and_known_out(seed, goal, known, before):
    path = _plan(seed, [goal], known=known)
    names = _names(path)
    assert names[-1] == seed.graph.concept(_id(seed, goal)).name
    for name in before:
        assert name in names and names.index(name) < len(names) - 1, name
    closure = known_closure(seed.graph, [_id(seed, k) for k in known])
    assert not {s.concept_id for s in path.steps} & (closure - {_id(seed, goal)})
    _assert_well_ordered(seed, path)


def test_two_goals_share_their_prerequisites(seed):
    path = _plan(seed, ["BERT", "GPT"])
    names = _names(path)
    assert names.count("Transformer") == 1 and len(names) == len(set(names))
    assert names.index("Transformer") < min(names.index("BERT"), names.index("GPT"))


def test_cli_path_on_the_seed(seed, monkeypatch: pytest.MonkeyPatch):
    from ui.cli import app

    monkeypatch.setenv("STUDYGRAPH_EMBEDDER__MODEL", FakeEmbedder().name)  # the CLI opens the workspace it built
    result = CliRunner().invoke(app, ["path", "BERT", "--known", "Python编程,数学基础", "--json",
                                      "--workspace", str(seed.settings.workspace)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ids = {s["concept_id"] for s in data["steps"]}
    assert _id(seed, "Transformer") in ids
    assert not ids & {_id(seed, n) for n in ("数学基础", "线性代数", "Python编程", "NumPy")}
    assert all(s["minutes"] > 0 for s in data["steps"] if s["sources"])

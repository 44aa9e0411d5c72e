"""Study paths and the next frontier on a small hand-made concept graph shaped like the seed notes."""

from __future__ import annotations

import pytest

from kg.glossary import load_glossary
from kg.graph import ConceptGraph
from kg.paths import (
    build_plan,
    known_closure,
    next_frontier,
    plan_path,
    reading_minutes,
)
from kg.resolve import ConceptResolver
from studygraph.records import Chunk, Concept, Edge, Evidence

# (id, name, aliases, chapter, order): chapters carry their own name as `chapter`.
CONCEPTS = [
    ("root", "我的笔记", (), "", 0),
    ("math", "数学基础", ("math",), "数学基础", 1),
    ("linalg", "线性代数", ("linear algebra",), "数学基础", 2),
    ("svd", "奇异值分解", ("SVD",), "数学基础", 3),
    ("prob", "概率论", ("probability",), "数学基础", 4),
    ("python", "Python编程", ("Python",), "Python编程", 5),
    ("numpy", "NumPy", (), "Python编程", 6),
    ("ds", "数据结构", ("data structures",), "Python编程", 7),
    ("dl", "深度学习", ("deep learning",), "深度学习", 8),
    ("nn", "神经网络", ("neural network",), "深度学习", 9),
    ("backprop", "反向传播", ("backpropagation",), "深度学习", 10),
    ("attn", "注意力机制", ("attention mechanism", "attention"), "深度学习", 11),
    ("selfattn", "自注意力", ("self-attention",), "深度学习", 11),
    ("tf", "Transformer", (), "深度学习", 12),
    ("pre", "预训练模型", ("pretrained models",), "预训练模型", 13),
    ("bert", "BERT", (), "预训练模型", 14),
    ("llama", "LLaMA", (), "预训练模型", 15),
    ("ft", "微调方法", ("fine-tuning methods",), "预训练模型", 16),
    ("lora", "LoRA", ("Low-Rank Adaptation",), "预训练模型", 17),
    ("apps", "应用领域", ("applications",), "应用领域", 18),
    ("recsys", "推荐系统", ("recommender systems",), "应用领域", 19),
    ("career", "职业发展", (), "职业发展", 20),
    ("interview", "面试准备", ("interview",), "职业发展", 21),
]
PARTS = [("math", "root"), ("linalg", "math"), ("svd", "linalg"), ("prob", "math"), ("python", "root"),
         ("numpy", "python"), ("ds", "python"), ("dl", "root"), ("nn", "dl"), ("backprop", "nn"), ("attn", "dl"),
         ("selfattn", "attn"), ("tf", "dl"), ("pre", "root"), ("bert", "pre"), ("llama", "pre"), ("ft", "llama"), ("lora", "ft"),
         ("apps", "root"), ("recsys", "apps"), ("career", "root"), ("interview", "career"), ("ds", "interview")]
PREREQS = [("linalg", "nn"), ("prob", "nn"), ("nn", "attn"), ("attn", "tf"), ("attn", "selfattn"), ("tf", "bert"), ("tf", "llama"),
           ("bert", "recsys"), ("dl", "interview"), ("math", "dl"),
           ("recsys", "pre")]  # a trap: a prerequisite of LoRA's chapter must not leak into the path to LoRA
TOOLS = [("numpy", "nn"), ("ds", "numpy"), ("ds", "recsys")]


def _chunk(concept_id: str, name: str, chapter: str, order: int, text: str) -> Chunk:
    return Chunk(id=f"c-{concept_id}", source="notes.md", section_id=f"s-{concept_id}",
                 heading_path=("我的笔记", chapter, name), line_start=order * 10, line_end=order * 10 + 8,
                 text=text, language="zh", order=order)


def build_fixture() -> tuple[ConceptGraph, dict[str, Chunk]]:
    """The graph plus one defining chunk per concept (evidence of an edge is its target's chunk)."""
    chunks = {f"c-{cid}": _chunk(cid, name, chapter, order, f"{name} 的说明。" * 20 + " explained in words " * 10)
              for cid, name, _, chapter, order in CONCEPTS}
    concepts = [Concept(id=cid, name=name, aliases=aliases, chapter=chapter, order=order, chunks=(f"c-{cid}",),
                        sources=("notes.md",)) for cid, name, aliases, chapter, order in CONCEPTS]

    def ev(target: str, rule: str) -> tuple[Evidence, ...]:
        return (Evidence(chunk_id=f"c-{target}", rule=rule, detail=f"{target} mentions it"),)

    edges = ([Edge(source=s, target=t, type="part_of", evidence=ev(t, "heading")) for s, t in PARTS]
             + [Edge(source=s, target=t, type="prerequisite", evidence=ev(t, "cue")) for s, t in PREREQS]
             + [Edge(source=s, target=t, type="used_in", evidence=ev(t, "applications")) for s, t in TOOLS])
    graph = ConceptGraph(concepts, edges)
    graph.compute_importance()
    return graph, chunks


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


@pytest.fixture
def fixture_graph(glossary):
    graph, chunks = build_fixture()
    return graph, ConceptResolver(graph, glossary), chunks


def _ids(path) -> list[str]:
    return [s.concept_id for s in path.steps]


def test_path_orders_prerequisites_before_the_goal(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["LoRA"])
    ids = _ids(path)
    assert ids.index("attn") < ids.index("tf") < ids.index("lora") == len(ids) - 1
    assert ids.index("linalg") < ids.index("nn") and ids.index("numpy") < ids.index("nn")
    for step in path.steps:  # every concept comes after everything it depends on
        for edge in graph.in_edges(step.concept_id, "prerequisite"):
            if edge.source in ids:
                assert ids.index(edge.source) < ids.index(step.concept_id)
    stages = {s.concept_id: s.stage for s in path.steps}
    assert stages["lora"] == "goal" and stages["linalg"] == "foundations" and stages["tf"] == "core"
    assert path.goals[0]["concept"] == "LoRA" and not path.unknown_goals


def test_path_does_not_leak_unrelated_material(fixture_graph):
    graph, resolver, chunks = fixture_graph
    ids = set(_ids(plan_path(graph, resolver, chunks, ["LoRA"])))
    # 推荐系统 is a prerequisite of LoRA's chapter and 面试准备 of its sibling BERT: neither belongs here.
    assert not ids & {"recsys", "interview", "bert", "pre", "root", "dl", "ds", "apps", "career"}
    assert ids == {"linalg", "prob", "numpy", "nn", "attn", "tf", "lora"}


def test_tools_join_the_path_without_chains_of_tools(fixture_graph):
    graph, resolver, chunks = fixture_graph
    # NumPy is used in 神经网络: it joins the path to LoRA, but the tool used in NumPy (数据结构) does not.
    ids = _ids(plan_path(graph, resolver, chunks, ["LoRA"]))
    assert "numpy" in ids and "ds" not in ids
    assert _ids(plan_path(graph, resolver, chunks, ["NumPy"])) == ["ds", "numpy"]
    # when both are on the path for their own reasons, they are still in order
    both = _ids(plan_path(graph, resolver, chunks, ["LoRA", "数据结构"]))
    assert both.index("ds") < both.index("numpy") < both.index("nn")
    # a tool's own prerequisites do come along
    graph.add_edge(Edge(source="svd", target="numpy", type="prerequisite"))
    ids = _ids(plan_path(graph, resolver, chunks, ["LoRA"]))
    assert ids.index("svd") < ids.index("numpy") < ids.index("nn")


def test_step_reason_names_the_edge_and_its_evidence(fixture_graph):
    graph, resolver, chunks = fixture_graph
    steps = {s.concept_id: s for s in plan_path(graph, resolver, chunks, ["BERT"]).steps}
    assert steps["attn"].reason.startswith("Transformer builds on 注意力机制: 深度学习 > Transformer")
    assert "[cue]" in steps["attn"].reason
    assert steps["numpy"].reason.startswith("NumPy is used in 神经网络")
    assert steps["bert"].reason == "your goal"
    tf = plan_path(graph, resolver, chunks, ["LoRA"]).steps
    assert any(s.concept_id == "tf" and "LLaMA (where LoRA is taught) builds on Transformer" in s.reason for s in tf)


def test_step_sources_cite_defining_chunks_with_reading_time(fixture_graph):
    graph, resolver, chunks = fixture_graph
    step = next(s for s in plan_path(graph, resolver, chunks, ["BERT"]).steps if s.concept_id == "tf")
    (src,) = step.sources
    assert (src.chunk_id, src.source, src.line_start) == ("c-tf", "notes.md", 120)
    assert src.heading_path == ("我的笔记", "深度学习", "Transformer")
    assert step.minutes == reading_minutes([chunks["c-tf"].text]) > 0
    assert step.aliases == ()


def test_reading_minutes_follow_the_stated_speeds():
    assert reading_minutes(["字" * 600]) == 2.0
    assert reading_minutes([" ".join(["word"] * 400)]) == 2.0
    assert reading_minutes(["字" * 300, "word " * 100]) == 1.5
    assert reading_minutes(["字"]) == 0.5 and reading_minutes(["", "  "]) == 0.0


def test_known_closure_covers_parts_and_prerequisites(fixture_graph):
    graph, _, _ = fixture_graph
    assert known_closure(graph, ["math"]) == {"math", "linalg", "svd", "prob"}
    # prerequisites transitively (and the tools used in them), but not the parts of a prerequisite
    assert known_closure(graph, ["attn"]) == {"attn", "selfattn", "nn", "linalg", "prob", "numpy"}
    assert "backprop" not in known_closure(graph, ["attn"])


def test_not_known_exceptions_override_implied_knowledge(fixture_graph):
    graph, _, _ = fixture_graph
    assert known_closure(graph, ["math"], ["linalg"]) == {"math", "prob"}
    assert known_closure(graph, ["math", "svd"], ["linalg"]) == {"math", "prob", "svd"}
    assert known_closure(graph, ["tf"], ["nn"]) == {"tf", "attn"}
    assert known_closure(graph, ["tf"], ["tf"]) == set()


def test_known_concepts_and_their_parts_leave_the_path(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["BERT"], known=["math", "Python"])
    ids = _ids(path)
    assert "tf" in ids and ids[-1] == "bert"
    assert not set(ids) & ({"math", "python"} | graph.parts_of("math", True) | graph.parts_of("python", True))
    assert {"数学基础", "线性代数", "奇异值分解", "概率论", "Python编程", "NumPy"} <= set(path.known)
    exception = _ids(plan_path(graph, resolver, chunks, ["BERT"], known=["math"], not_known=["linear algebra"]))
    assert "linalg" in exception and "prob" not in exception


def test_known_goal_is_still_listed_but_its_known_ancestors_are_not(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["Transformer"], known=["Transformer"])
    assert _ids(path) == ["tf"]


def test_unknown_goal_gets_suggestions_and_does_not_stop_the_others(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["量子计算机理论", "BERT"])
    assert [u["query"] for u in path.unknown_goals] == ["量子计算机理论"]
    assert isinstance(path.unknown_goals[0]["suggestions"], list)
    assert [g["concept"] for g in path.goals] == ["BERT"] and _ids(path)[-1] == "bert"
    nothing = plan_path(graph, resolver, chunks, ["量子计算机理论"])
    assert nothing.steps == () and nothing.goals == () and len(nothing.unknown_goals) == 1


def test_near_miss_goal_is_resolved_or_suggested(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["注意力模型"])
    resolved = [g["concept"] for g in path.goals]
    suggested = [s for u in path.unknown_goals for s in u["suggestions"]]
    assert resolved == ["注意力机制"] or "注意力机制" in suggested


def test_goal_resolves_through_an_alias_in_the_other_language(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["attention mechanism"])
    assert path.goals[0]["concept"] == "注意力机制" and _ids(path)[-1] == "attn"
    # 自注意力 is part of 注意力机制 but builds on it: it comes after the goal, so it is not on the way.
    assert "selfattn" not in _ids(path)
    assert "attention mechanism" in path.steps[-1].reason


def test_multiple_goals_share_prerequisites_once(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["BERT", "LoRA", "bert"])
    ids = _ids(path)
    assert len(ids) == len(set(ids)) and ids.count("tf") == 1
    assert {s.concept_id for s in path.steps if s.stage == "goal"} == {"bert", "lora"}
    assert ids.index("tf") < min(ids.index("bert"), ids.index("lora"))
    tf = next(s for s in path.steps if s.concept_id == "tf")
    assert "also needed for" in tf.reason


def test_goal_that_is_a_whole_brings_its_parts_first(fixture_graph):
    graph, resolver, chunks = fixture_graph
    path = plan_path(graph, resolver, chunks, ["数学基础"])
    ids = _ids(path)
    assert set(ids) == {"math", "linalg", "svd", "prob"} and ids[-1] == "math"
    assert {s.stage for s in path.steps} == {"goal"}  # learning a whole is learning its parts
    assert ids.index("svd") < ids.index("linalg")
    assert _ids(plan_path(graph, resolver, chunks, ["数学基础"], known=["线性代数"])) == ["prob", "math"]


def test_mixed_cycles_are_broken_without_losing_concepts(fixture_graph):
    graph, resolver, chunks = fixture_graph
    graph.add_edge(Edge(source="bert", target="attn", type="used_in"))  # closes attn -> tf -> bert -> attn
    plan = build_plan(graph, ["bert"], set())
    assert {"attn", "tf", "bert"} <= set(plan.dag.nodes)
    ids = _ids(plan_path(graph, resolver, chunks, ["BERT"]))
    assert ids.index("attn") < ids.index("tf") < ids.index("bert")


def test_next_frontier_ranks_ready_concepts_by_goals_unlocked(fixture_graph):
    graph, _, _ = fixture_graph
    items = next_frontier(graph, ["math", "python"], ["bert", "lora"])
    assert items[0].concept_id == "nn" and set(items[0].unlocks) == {"BERT", "LoRA"}
    items = next_frontier(graph, ["math"], ["bert", "svd"], not_known_ids=["svd"])
    assert [i.concept_id for i in items] == ["numpy", "svd"]
    ready = {i.concept_id for i in next_frontier(graph, ["math", "python"], [], limit=100)}
    assert {"nn", "backprop"} <= ready and "attn" not in ready and "linalg" not in ready
    assert "dl" not in ready and "root" not in ready  # chapters are not a next step
    assert len(next_frontier(graph, [], [], limit=3)) == 3


def test_goal_inherits_prerequisites_only_from_wholes_in_its_own_chapter(fixture_graph):
    graph, resolver, chunks = fixture_graph
    # 数据结构 is also listed under 面试准备 (another chapter, which builds on 深度学习): that is not where it is taught.
    # Nothing leads to it, so it starts from the chapter it is taught in.
    assert _ids(plan_path(graph, resolver, chunks, ["数据结构"])) == ["python", "ds"]
    # LoRA is taught inside LLaMA, which builds on Transformer.
    assert "tf" in _ids(plan_path(graph, resolver, chunks, ["LoRA"]))

"""Streaming checks: sentences are complete only when their citation is in, each is checked against the unit it
cites, and failing facts come back as quotes after the model's sentences; the bundled model parts assemble."""

from __future__ import annotations

import hashlib
import sys

import pytest

from assistant.bundled_models import BundledModel, assemble
from assistant.compose import SentenceChecker, checked_sentences, complete_sentences
from assistant.evidence import Evidence
from assistant.units import Unit
from studygraph.errors import ModelError
from studygraph.records import Chunk


def evidence(text: str, heading: str) -> Evidence:
    chunk = Chunk(id=heading, source="n.md", section_id="s", heading_path=("预训练", heading), line_start=1,
                  line_end=3, text=text, language="zh")
    return Evidence(Unit(text, "sentence", 1, 1, "", chunk.id), chunk, 1.0)


SELECTION = [evidence("架构：单向Transformer解码器", "6.2 GPT"), evidence("架构：双向Transformer编码器", "6.1 BERT")]


def test_a_sentence_waits_for_its_citation_marker():
    assert complete_sentences("BERT 是编码器。") == ([], "BERT 是编码器。")
    assert complete_sentences("BERT 是编码器。[") == ([], "BERT 是编码器。[")
    assert complete_sentences("BERT 是编码器。[2] GPT") == (["BERT 是编码器。[2]"], "GPT")
    assert complete_sentences("GPT 是解码器 [1]", final=True) == (["GPT 是解码器 [1]"], "")


def test_each_sentence_is_judged_by_the_unit_it_cites():
    checker = SentenceChecker(SELECTION, "zh", question="BERT 和 GPT 的区别是什么？")
    stream = iter(["GPT 使用单向 Trans", "former 解码器 [1]。BERT 使用单向", "解码器 [2]。"])
    outcomes = list(checked_sentences(stream, checker))
    assert [o.kind for o in outcomes] == ["model", "dropped"]
    assert outcomes[0].text == "GPT 使用单向 Transformer 解码器 [1]。"
    quotes = checker.quotes_for_the_rest(outcomes)
    assert [q.text for q in quotes] == ["BERT · 架构：双向Transformer编码器 [2]"]


def test_the_best_unit_is_quoted_when_the_model_leaves_its_passage_out():
    from dataclasses import replace

    best = replace(evidence("太大的学习率会阻碍收敛，导致损失函数震荡甚至发散", "学习率的选择"), score=0.9)
    aside = replace(evidence("如果训练集较小，可以直接使用梯度下降法", "梯度下降"), score=0.4)
    checker = SentenceChecker([aside, best], "zh", question="学习率太大会怎样？")
    outcomes = list(checked_sentences(iter(["如果训练集较小，可以直接使用梯度下降法 [1]。"]), checker))
    assert [o.kind for o in outcomes] == ["model"]
    assert [q.text for q in checker.quotes_for_the_rest(outcomes)] == [
        "学习率的选择 · 太大的学习率会阻碍收敛，导致损失函数震荡甚至发散 [2]"]
    # when a passing sentence cites the best unit's passage, nothing is added
    checker = SentenceChecker([aside, best], "zh", question="学习率太大会怎样？")
    outcomes = list(checked_sentences(iter(["太大的学习率会阻碍收敛 [2]。"]), checker))
    assert [o.kind for o in outcomes] == ["model"] and checker.quotes_for_the_rest(outcomes) == []


def test_a_sentence_citing_the_wrong_fact_is_shown_with_the_fact_that_supports_it():
    checker = SentenceChecker(SELECTION, "zh", question="GPT 的架构是什么？")
    outcome = checker.check("GPT 的架构是单向Transformer解码器 [2]。")  # [2] is BERT's; [1] says this
    assert outcome.kind == "model" and outcome.cited == (1,) and outcome.text.endswith("[1]")
    # a sentence no unit supports stays dropped
    assert checker.check("GPT 的架构是双向Transformer编码器 [1]。").kind == "dropped"


def test_an_uncited_sentence_joining_two_units_is_checked_against_both():
    checker = SentenceChecker(SELECTION, "zh")
    outcome = checker.check("BERT 是双向Transformer编码器，而 GPT 是单向Transformer解码器。")
    assert outcome.kind == "model" and set(outcome.cited) == {1, 2}
    swapped = checker.check("BERT 是单向Transformer解码器，而 GPT 是双向Transformer编码器。")
    assert swapped.kind == "dropped"


def test_a_sentence_keeps_only_the_citations_it_needs():
    aside = evidence("LLaVA：视觉指令微调；投影层连接视觉和语言模型", "9.2 视觉语言模型")
    checker = SentenceChecker([SELECTION[0], aside], "zh", question="GPT 的架构是什么？")
    outcome = checker.check("GPT 的架构是单向Transformer解码器 [1][2]。")  # [2] lends it no word
    assert outcome.kind == "model" and outcome.cited == (1,) and outcome.text == "GPT 的架构是单向Transformer解码器 [1]。"
    assert outcome.written.endswith("[1][2]。")  # what the model wrote is kept for the record
    # a sentence that joins two units keeps both
    both = SentenceChecker(SELECTION, "zh").check("BERT 是双向Transformer编码器，而 GPT 是单向Transformer解码器 [2][1]。")
    assert both.kind == "model" and set(both.cited) == {1, 2}


def make_parts(tmp_path, monkeypatch, blobs: list[bytes], prefix: str) -> None:
    for i, blob in enumerate(blobs, start=1):
        package = tmp_path / f"{prefix}{i}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{i:02d}.bin").write_bytes(blob)
        (package / "__init__.py").write_text(
            "import os\ndef get_part_path():\n"
            f"    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'part{i:02d}.bin')\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_parts_are_joined_in_order_checked_and_cached(tmp_path, monkeypatch):
    blobs = [b"GGUF" + bytes(range(200)), b"second" * 50, b"end"]
    whole = b"".join(blobs)
    make_parts(tmp_path, monkeypatch, blobs, "fakemodel_part")
    model = BundledModel("bundled:fake", "fakemodel_part", "fakemodel-part", "1.0", 3, len(whole),
                         hashlib.sha256(whole).hexdigest())
    path = assemble(model, tmp_path / "cache")
    assert path.read_bytes() == whole
    (tmp_path / "fakemodel_part1" / "data" / "part01.bin").unlink()  # the cache is used: parts no longer needed
    assert assemble(model, tmp_path / "cache") == path
    for name in [m for m in sys.modules if m.startswith("fakemodel_part")]:
        del sys.modules[name]


def test_a_wrong_hash_or_a_missing_part_is_a_clear_model_error(tmp_path, monkeypatch):
    make_parts(tmp_path, monkeypatch, [b"a" * 10, b"b" * 10], "badmodel_part")
    wrong = BundledModel("bundled:bad", "badmodel_part", "badmodel-part", "1.0", 2, 20, "0" * 64)
    with pytest.raises(ModelError, match="do not make the published file"):
        assemble(wrong, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.gguf"))
    missing = BundledModel("bundled:gone", "gonemodel_part", "gonemodel-part", "1.0", 2, 20, "0" * 64)
    with pytest.raises(ModelError, match="gonemodel-part1..2==1.0"):
        assemble(missing, tmp_path / "cache")


def test_a_formula_or_code_is_never_cut_into_sentences():
    text = "前向过程：$$q(x_t | x_{t-1}) = N(x_t; \\sqrt{1-b}x, bI)$$。 [1] 用 `a; b` 调用 [2]。"
    done, rest = complete_sentences(text, final=True)
    assert done == ["前向过程：$$q(x_t | x_{t-1}) = N(x_t; \\sqrt{1-b}x, bI)$$。 [1]", "用 `a; b` 调用 [2]。"]
    assert complete_sentences("公式 $$a = b;")[0] == []  # an open formula is still being written


def test_a_fragment_that_states_nothing_is_dropped_even_where_its_words_are_in_the_unit():
    unit = evidence("Similar to the ([[@huangTabTransformer2020]]5), embeddings increase robustness.", "Embeddings")
    checker = SentenceChecker([unit], "en")
    assert checker.check("Similar to the [[ [1]").kind == "dropped"
    picture = SentenceChecker([evidence("多项式核函数需要给定3个参数 [1604673235564](assets/1604673235564.png)", "核函数")], "zh")
    assert picture.check("[1604673235564](assets/1604673235564.png)。 [1]").kind == "dropped"
    assert checker.check("Embeddings increase robustness [1].").kind == "model"

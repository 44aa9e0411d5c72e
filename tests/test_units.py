"""Answer units: a passage split into sentences, list items, table rows, formulas and code, with their lines."""

from __future__ import annotations

from assistant.evidence import group_lists
from assistant.units import looks_like_code, split_units
from studygraph.records import Chunk

NOTE = """BERT 使用双向编码器。它的预训练任务有两个！
**预训练任务**：
- MLM（Masked Language Modeling）
- NSP（Next Sentence Prediction）

| 模型 | 年份 |
|------|------|
| ResNet | 2015 |

自注意力：
$$\\mathrm{softmax}(QK^T/\\sqrt{d_k})V$$

```python
model = BertModel.from_pretrained('bert-base-uncased')
```
z = mu + std * torch.randn_like(std)
return z"""


def chunk(text: str = NOTE, line_start: int = 40) -> Chunk:
    return Chunk(id="c1", source="n.md", section_id="s", heading_path=("预训练", "6.1 BERT"), line_start=line_start,
                 line_end=line_start + text.count("\n"), text=text, language="zh")


def test_each_kind_of_unit_is_found_with_the_file_lines_it_comes_from():
    units = split_units(chunk())
    lines = NOTE.splitlines()
    kinds = [u.kind for u in units]
    assert kinds == ["sentence", "sentence", "list_item", "list_item", "table_row", "formula", "code", "code"]
    assert units[0].text == "BERT 使用双向编码器。" and units[1].text == "它的预训练任务有两个！"
    for unit in units:
        first_line = lines[unit.line_start - 40]
        assert unit.text.splitlines()[0].strip("`$ ")[:6] in first_line or unit.kind in ("list_item", "table_row")
    assert all(u.chunk_id == "c1" for u in units)


def test_list_items_keep_their_lead_in_and_a_table_row_its_header():
    units = split_units(chunk())
    mlm = units[2]
    assert mlm.text == "MLM（Masked Language Modeling）" and mlm.context == "预训练任务："
    assert mlm.full_text == "预训练任务：MLM（Masked Language Modeling）"
    assert units[4].text == "模型: ResNet; 年份: 2015"
    assert units[5].context == "自注意力：" and units[5].text.startswith("$$")


def test_short_lists_under_one_lead_answer_together():
    grouped = group_lists(split_units(chunk()))
    items = [u for u in grouped if u.kind == "list_item"]
    assert len(items) == 1 and "MLM" in items[0].text and "NSP" in items[0].text
    assert items[0].line_end - items[0].line_start == 1


def test_code_cut_from_its_fence_is_one_code_unit_not_sentences():
    units = split_units(chunk())
    assert units[-1].kind == "code" and units[-1].text == "z = mu + std * torch.randn_like(std)\nreturn z"
    assert looks_like_code("x = torch.zeros(3)")
    assert not looks_like_code("The SVM loss (hinge loss) is one of two common choices.")
    assert not looks_like_code("权重 = 学习率 × 梯度")


def test_a_sentence_hard_wrapped_across_lines_is_one_unit_with_both_lines():
    text = ("A random forest trains many trees on bootstrap samples and lets each split consider only a random subset\n"
            "of features. Averaging their votes lowers variance.\n"
            "梯度提升树按顺序训练决策树，每棵新树拟合\n"
            "前面模型的残差。\n"
            "\n"
            "A new paragraph stands alone\n")
    units = [(u.text, u.line_start, u.line_end) for u in split_units(chunk(text, line_start=10))]
    assert units == [
        ("A random forest trains many trees on bootstrap samples and lets each split consider only a random subset "
         "of features.", 10, 11),
        ("Averaging their votes lowers variance.", 11, 11),
        ("梯度提升树按顺序训练决策树，每棵新树拟合前面模型的残差。", 12, 13),
        ("A new paragraph stands alone", 15, 15),
    ]


def test_a_line_of_only_images_or_links_is_not_an_answer_unit_and_a_list_reads_without_doubled_separators():
    text = ("ReLU 的优点：\n- 收敛速度快；\n- 计算简单；\n\n[图5 ReLU](../../images/relu.jpg)\n"
            "![曲线](relu-curve.png) [图6](a.png)\n见 [原论文](https://arxiv.org/abs/1803.08375) 的第二节。")
    units = split_units(chunk(text, line_start=1))
    texts = [u.full_text for u in units]
    assert not any("relu.jpg" in t or "relu-curve" in t for t in texts), texts
    assert any(t.startswith("见 [原论文]") for t in texts), "a sentence that carries a link is still a unit"
    grouped = group_lists(units)
    assert grouped[0].text == "收敛速度快；计算简单", grouped[0].text


def test_a_code_block_titled_by_short_comments_also_gives_their_names_as_one_list_unit():
    text = ("正则化：\n```python\n# Dropout\nnn.Dropout(p=0.5)\n\n# 权重衰减\nopt = Adam(params, weight_decay=1e-5)\n"
            "# this comment is a whole sentence explaining the next line in detail\n# x = old_call(y)\n"
            "# 标签平滑\nloss = nn.CrossEntropyLoss(label_smoothing=0.1)\n```\n\n```python\n# only one\nx = 1\n```")
    units = split_units(chunk(text, line_start=100))
    outlines = [u for u in units if u.kind == "list_item"]
    assert len(outlines) == 1, [u.full_text for u in units]
    outline = outlines[0]
    assert outline.full_text == "正则化：Dropout；权重衰减；标签平滑"
    code = next(u for u in units if u.kind == "code")
    assert (outline.line_start, outline.line_end) == (code.line_start, code.line_end) == (101, 111)


def test_a_line_without_a_word_is_not_a_unit():
    units = split_units(chunk("K近邻的思想：物以类聚。\n!\n\n- ……\n$$x^2$$", line_start=1))
    assert [u.kind for u in units] == ["sentence", "formula"], [u.text for u in units]


def test_long_code_is_quoted_by_the_lines_about_the_question():
    from assistant.units import MAX_CODE_LINES, focus_code

    body = [f"x{i} = step({i})" for i in range(30)]
    body[20:22] = ["# 数据清洗", "df.dropna()  # 删除空值"]
    code = "\n".join(["```python", *body, "```"])
    focused = focus_code(code, ["删除", "缺失值"])
    lines = focused.split("\n")
    assert lines[0] == "```python" and lines[-1] == "```" and len(lines) <= MAX_CODE_LINES
    assert "df.dropna()  # 删除空值" in lines and "# 数据清洗" in lines and "..." in lines
    assert focus_code(code, ["无关"]).split("\n")[1] == "x0 = step(0)", "no line about it: the head"
    short = "```python\nx = 1\n```"
    assert focus_code(short, ["x"]) == short
    # the unit keeps the whole block, so the lines the question is about are there to be found
    unit = next(u for u in split_units(chunk(code, line_start=1)) if u.kind == "code")
    assert "df.dropna()" in unit.text and unit.text.count("\n") == len(body) + 1


def test_a_quoted_line_is_read_without_its_quote_marks_and_single_star_emphasis_goes_next_to_chinese():
    units = split_units(chunk("> 梯度是一个向量，函数在该点沿着此*梯度*的方向变化最快。\n>> 计算 a*b 时不去星号。", line_start=64))
    assert [u.text for u in units] == ["梯度是一个向量，函数在该点沿着此梯度的方向变化最快。", "计算 a*b 时不去星号。"]
    assert [(u.line_start, u.line_end) for u in units] == [(64, 64), (65, 65)]

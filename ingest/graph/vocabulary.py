"""Which written phrases can name a concept: list labels, generic headings, stop words and the shape test."""

from __future__ import annotations

import re
from typing import Literal

from kg.names import STOP_NAMES, cjk_count, clean_display, normalize_name, split_alias

LabelKind = Literal["concepts", "applications", "properties", "examples"]


def _keys(words: str) -> frozenset[str]:
    return frozenset(normalize_name(w) for w in words.split("|") if w.strip())


# Labels of definition-like lists: the label names no concept; its items do (or are applications, or properties).
LIST_LABELS: dict[LabelKind, frozenset[str]] = {
    "concepts": _keys(
        "核心概念|基本概念|主要概念|关键概念|重要概念|核心组件|组件|主要组件|组成|组成部分|主要组成|核心内容|主要内容|"
        "预训练任务|微调方法|常用方法|主要方法|方法|常见方法|算法|常用算法|主要算法|经典算法|分类|类型|种类|主要类型|"
        "常见类型|变体|常见变体|模型|常见模型|经典模型|代表模型|代表性模型|经典架构|技术|关键技术|核心技术|主要技术|"
        "常用技术|工具|常用工具|知识点|核心知识点|key ideas|key concepts|concepts|core concepts|components|"
        "methods|techniques|types|variants|models|algorithms|tools|key components|topics|main ideas"
    ),
    "applications": _keys(
        "应用|应用场景|应用领域|主要应用|典型应用|常见应用|实际应用|用途|适用场景|使用场景|用于|应用方向|"
        "applications|application|use cases|uses|used in|used for|usage|applied to"
    ),
    "properties": _keys(
        "特点|优点|缺点|优势|劣势|局限|局限性|不足|注意事项|特性|性质|步骤|流程|思路|原理|作用|目的|动机|架构|结构|"
        "定义|公式|核心思想|基本思想|主要思想|思想|问题|挑战|难点|总结|小结|备注|说明|提示|注意|要点|关键点|"
        "pros|cons|advantages|disadvantages|properties|features|notes|note|steps|limitations|drawbacks|"
        "benefits|definition|intuition|idea|summary|tip|tips|caveats|warning|remark|remarks|problem|problems|"
        "architecture|formula|motivation|goal|goals|核心参数解析|参数解析|参数说明|参数|返回值|返回|"
        "parameters|params|arguments|args|returns|return value|attributes|输入参数|输出"
    ),
    "examples": _keys("例子|示例|例如|比如|举例|实例|e.g|eg|example|examples|for example|such as"),
}

# Table columns whose cells name models or methods used for the row's concept (a task).
MODEL_HEADERS = _keys("模型|代表模型|典型模型|常用模型|经典模型|方法|常用方法|算法|网络|架构|model|models|method|methods|"
                      "algorithm|algorithms|architecture|architectures|representative models")
# Headings that hold no concepts at all (their whole subtree is skipped).
SKIP_HEADINGS = _keys(
    "目录|table of contents|contents|toc|参考文献|参考资料|参考|参考链接|references|reference|further reading|"
    "additional references|additional resources|resources|学习资源推荐|学习资源|资源推荐|推荐资源|推荐阅读|延伸阅读|"
    "扩展阅读|学习建议|致谢|acknowledgements|acknowledgments|license|许可证|changelog|更新日志|课程|书籍|论文|社区|"
    "links|useful links|相关链接|附录|appendix|credits|citation|引用"
)
# Headings that introduce a curriculum: a learning path, a syllabus, a roadmap.
CURRICULUM_HEADING = re.compile(r"学习路径|学习路线|路线图|学习顺序|学习计划|learning path|roadmap|syllabus|curriculum|study plan",
                                re.IGNORECASE)
# Generic headings: no concept of their own; what they hold belongs to the heading above.
GENERIC_HEADINGS = _keys(
    "基础概念|基本概念|概述|简介|引言|总结|小结|介绍|背景|动机|定义|代码实现|实现|示例|例子|练习|前言|导读|思考|"
    "参考代码|代码|代码示例|核心思想|原理|算法原理|基本原理|优缺点|特点|应用|应用场景|问题|思考题|习题|答案|"
    "introduction|intro|overview|summary|background|motivation|conclusion|conclusions|example|examples|"
    "exercises|exercise|implementation|notes|definition|discussion|recap|code|qa|q&a|faq|preface|"
    "prerequisites|前置知识|setup|getting started|quick start|next steps|what's next|in practice|"
    "practical considerations|advantages|disadvantages|pros and cons|applications|tldr|tl;dr|提出背景|实例效果|"
    "实例演示|应用示例|解释|算法概述|算法流程|相关问题|意义|区别|联系与区别|数学推导|推导|公式推导|计算过程|"
    "实现代码|效果|实验结果|实验|结果|参考|motivation and overview|additional notes|results|experiments|"
    "generated samples|case study|case studies|further reading|additional resources|notes|tips and tricks|综述|"
    "概览|总览|导言|引子|小节|本章小结|本节小结"
)
# A document title (a note's single H1 such as "我的AI知识体系") names no concept.
TITLE_WORDS = re.compile(r"笔记|知识体系|知识整理|学习记录|我的|合集|大全|汇总|cheat ?sheet|handbook|notes$|study guide",
                         re.IGNORECASE)

STOP_TERMS = STOP_NAMES
# Single words that, matched in text, are no evidence of a concept being mentioned.
COMMON_MENTION_WORDS = STOP_TERMS

_LEADING_VERBS = re.compile(
    r"^(支持(?!向量)|使用|采用|利用|通过|降低|提高|完成|参与|阅读|深入|关注|适合|投影|保留|创建|如何|什么|为什么|怎么|怎样|不要|"
    r"多写|打好|动手|持续|交流|分享|了解|理解|掌握|熟悉|避免|防止|用于|用来|可以|能够|需要|应该|如果|因为|所以|"
    r"how |why |what |when |where |which |is |are |do |does |can |should |we |you |i |it |this |these |those |"
    r"let |note |see |use |using |train |compute |make |get |find |read |try |and |or |but |end |save |run |"
    r"consider |think |be |work |document |maximize |choose |choosing |pick |picking |build |building |"
    r"install |installing |initialize |perform |performing |put |putting |generate |generating |preprocess |"
    r"refining |showcasing |working |welcome |overview of |intro to |advice |our |your |my |here |there |"
    r"如图|如表|见图|见表|如下|如上|图\s*\d|表\s*\d|fig(?:ure)?\.?\s*\d|table\s*\d|eq\.?\s*\d|公式\s*\d)",
    re.IGNORECASE,
)
_FORBIDDEN = re.compile(r"[。！？!?；;，,：:=$\\^{}<>|\"“”]|https?:|www\.|\.(md|py|png|jpg|html)\b|\.\.\.")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9'\-+.&]*")


def label_kind(text: str) -> LabelKind | None:
    """The kind of list a bold label introduces ("**应用**：" -> "applications"), or None for a term."""
    key = normalize_name(text)
    for kind, keys in LIST_LABELS.items():
        if key in keys:
            return kind
    return None


def heading_role(heading: str, level: int, is_title: bool) -> Literal["concept", "transparent", "skip", "curriculum"]:
    """What a heading is for concepts: one itself, transparent (generic, or a title), skipped, or a curriculum."""
    key = normalize_name(heading)
    if key in SKIP_HEADINGS:
        return "skip"
    if CURRICULUM_HEADING.search(clean_display(heading)):
        return "curriculum"
    if is_title or not key or key in GENERIC_HEADINGS or not looks_like_concept(heading, strict=False):
        return "transparent"
    return "concept"


def looks_like_concept(text: str, strict: bool = True) -> bool:
    """Whether a phrase has the shape of a concept name: short, a noun phrase, no sentence, no formula.

    Args:
        text: the phrase as written (markup allowed).
        strict: stricter for list items and bold phrases than for headings (no "X的Y" descriptions, fewer words).
    """
    name = split_alias(clean_display(text)).name
    key = normalize_name(name)
    if len(key) < 2 or key in STOP_TERMS or key.isdigit() or _FORBIDDEN.search(name):
        return False
    if label_kind(name) is not None or _LEADING_VERBS.match(name + " "):
        return False
    cjk = cjk_count(name)
    words = _WORDS.findall(name)
    if cjk > (12 if strict else 16) or len(words) > (5 if strict else 7) or len(name) > 60:
        return False
    if strict and cjk > 6 and "的" in name:
        return False
    if strict and re.match(r"(the|a|an) ", name, re.IGNORECASE):
        return False
    if not cjk and not words:
        return False
    if not cjk and len(key) < 2:
        return False
    return not (cjk == 0 and len(words) == 1 and len(key) == 1)

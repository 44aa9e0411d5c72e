"""Evidence first: the few answer units of the retrieved passages that answer a question, covering every concept
it names. The selection is the `--no-llm` answer and the LLM's only material."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.claim_words import terms_in
from assistant.text import content_tokens
from assistant.units import Unit, focus_code, split_units
from assistant.verify import citation_for, looks_like_injection
from studygraph.records import Chunk, Citation
from studygraph.text import CJK, language_of

# A question asks for code or an API; otherwise code blocks are not answer units.
WANTS_CODE = re.compile(
    r"代码|怎么写|怎么搭|搭建|实现|函数|调用|接口|命令|怎么用|如何用|用哪个|\b(code|implement\w*|function|class|api|snippet|command"
    r"|python|numpy|pandas|pytorch|torch|sklearn|tensorflow|keras|how\s+do\s+i|how\s+to|write)\b",
    re.IGNORECASE,
)
MAX_LIST_GROUP = 8
Weight = Callable[[str], float]


@dataclass(frozen=True)
class Evidence:
    """A selected unit with the chunk it comes from, its relevance score and the concept terms it covers."""

    unit: Unit
    chunk: Chunk
    score: float
    covers: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return " > ".join(h for h in self.chunk.heading_path if h)

    @property
    def check_text(self) -> str:
        """What a claim citing this unit is checked against: the unit with its context and its heading."""
        return f"{self.heading}\n{titled(self)}" if self.heading else self.unit.full_text


@dataclass(frozen=True)
class SelectionParams:
    """How many units an answer gets and how close to the best one they must score."""

    max_units: int = 4
    relative_floor: float = 0.7
    duplicate_overlap: float = 0.7


def wants_code(question: str) -> bool:
    return bool(WANTS_CODE.search(question))


def group_lists(units: Sequence[Unit]) -> list[Unit]:
    """Short lists under one lead-in line become one unit ("预训练任务：MLM；NSP"): a list answers together."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        unit = units[i]
        j = i
        while (j + 1 < len(units) and units[j + 1].kind == "list_item" and unit.kind == "list_item" and unit.context
               and units[j + 1].context == unit.context):
            j += 1
        if j > i and j - i < MAX_LIST_GROUP:
            joiner = "；" if CJK.search(unit.context) else "; "
            text = joiner.join(u.text.rstrip("；;，, ") for u in units[i : j + 1])
            out.append(Unit(text, "list_item", unit.line_start, units[j].line_end, unit.context, unit.chunk_id))
        else:
            out.extend(units[i : j + 1])
        i = j + 1
    return out


def candidate_units(question: str, chunks: Sequence[Chunk]) -> list[tuple[int, Unit]]:
    """(rank of its chunk, unit) for every unit that may answer: no injected orders; code only when the question
    asks for code or an API, or from a passage that is code and nothing else, at any search rank (its code is all
    it can answer with: "基于密度的聚类算法要设置哪些参数" is answered by `DBSCAN(eps=0.5, min_samples=5)` under
    "DBSCAN（密度聚类）："); the outline of a code block's comments (`assistant.units.comment_outline`) only where
    its code may not answer."""
    asked = wants_code(question)
    out = []
    for rank, chunk in enumerate(chunks):
        units = group_lists(split_units(chunk))
        code_spans = {(u.line_start, u.line_end) for u in units if u.kind == "code"}
        of_code = [(u.line_start, u.line_end) in code_spans for u in units]  # code, or the outline of its comments
        code_answers = asked or (bool(units) and all(of_code))
        for unit, in_code in zip(units, of_code, strict=True):
            # a code block answers through its code, or through its outline where its code may not answer
            if in_code and (unit.kind == "code") != code_answers:
                continue
            if not looks_like_injection(unit.full_text):
                out.append((rank, unit))
    return out


def key_terms(question: str, idf: Weight, named: Sequence[str] = (),
              present: Callable[[str], bool] | None = None) -> list[str]:
    """The concepts a question names: the names the concept graph found, else its rarer content words (either
    among those `present` in the passages, when given: a word the notes lack cannot be covered)."""
    named = [n for n in dict.fromkeys(named) if present is None or present(n)]
    if named:
        # and the technical terms the graph does not hold: "BERT 和 GPT 的区别" covers BERT where only GPT is a concept
        inside = " ".join(named).lower()
        terms = [t for t in terms_in(question, language_of(question))
                 if t.lower() not in inside and (present is None or present(t))]
        return [*named, *terms]
    tokens = [t for t in dict.fromkeys(asked_about(question))
              if not t.isdigit() and (present is None or present(t))]
    if not tokens:
        return []
    weights = {t: idf(t) for t in tokens}
    top = max(weights.values())
    return [t for t in tokens if weights[t] >= 0.75 * top][:4]


def mentions(text: str, term: str) -> bool:
    lowered = text.lower()
    term = term.lower()
    if CJK.search(term):
        return term in lowered
    return re.search(rf"(?<![a-z0-9]){re.escape(term)}", lowered) is not None


def asked_about(question: str) -> list[str]:
    """The question's content words without those that only ask for code ("残差连接的代码怎么写": 代码 asks for code,
    and would match "要多写代码" better than the code itself)."""
    return [t for t in content_tokens(question) if not WANTS_CODE.fullmatch(t)]


def lexical_score(question_tokens: Sequence[str], text: str, idf: Weight) -> float:
    """IDF-weighted share of the question's content words the text holds."""
    wanted = set(question_tokens)
    if not wanted:
        return 0.0
    have = set(content_tokens(text))
    total = sum(idf(t) for t in wanted)
    return sum(idf(t) for t in wanted & have) / total if total else 0.0


def _adds_nothing(unit: Unit, question_tokens: set[str]) -> bool:
    """A unit whose words are all in the question ("- LoRA" to a question about LoRA)."""
    own = set(content_tokens(unit.text))
    return len(own - question_tokens) < 2


def _overlap(a: str, b: str) -> float:
    x, y = set(content_tokens(a)), set(content_tokens(b))
    return len(x & y) / max(1, min(len(x), len(y)))


def score_units(question: str, candidates: Sequence[tuple[int, Unit]], chunks: Sequence[Chunk], idf: Weight,
                similarity: Callable[[str, Sequence[str]], np.ndarray] | None = None,
                named: Sequence[str] = ()) -> list[float]:
    """Relevance of each candidate: meaning (embedder cosine, when given) and words, the heading counting as
    context, with a small preference for better-ranked passages. For a question that asks for code, a code unit
    scores at least by its words (comments, identifiers): the embedder cannot read code ("残差连接的代码怎么写"
    scores "要多写代码" at 0.36, the block with "# 自注意力 + 残差" at 0.06). A unit in the other language than the
    question is also matched on the names the notes give the concepts the question names (`named`: "variational
    autoencoder" -> 变分自编码器), the one bridge words have across languages."""
    q_tokens = asked_about(question)
    bridged = list(dict.fromkeys([*q_tokens, *content_tokens(" ".join(named))]))
    code_asked = wants_code(question)
    asked = language_of(question)
    texts = [f"{' '.join(chunks[rank].heading_path)}\n{unit.full_text}" for rank, unit in candidates]
    lexical = []
    for (_, unit), text in zip(candidates, texts, strict=True):
        words = bridged if asked != language_of(unit.full_text) else q_tokens
        lexical.append(0.7 * lexical_score(words, unit.full_text, idf) + 0.3 * lexical_score(words, text, idf))
    dense = similarity(question, texts) if similarity is not None and texts else np.zeros(len(texts))
    scores = []
    for (rank, unit), lex, cos in zip(candidates, lexical, dense, strict=True):
        # across languages ("what objectives is BERT pretrained with" over Chinese notes) words barely meet:
        # the multilingual embedder's cosine carries the choice
        across = similarity is not None and asked != language_of(unit.full_text)
        mix = 0.3 * lex + float(cos) if across else 0.5 * lex + 0.5 * float(cos)
        if code_asked and unit.kind == "code":
            mix = max(mix, lex)  # the embedder cannot read code: its words (comments, identifiers) speak for it
        scores.append(mix * (1.0 - 0.08 * rank))
    return scores


def select_evidence(question: str, chunks: Sequence[Chunk], idf: Weight, *, named: Sequence[str] = (),
                    similarity: Callable[[str, Sequence[str]], np.ndarray] | None = None,
                    params: SelectionParams | None = None) -> list[Evidence]:
    """The few units that answer a question, in reading order.

    First, for every concept the question names, its best unit (a comparison gets each side's); then the next best
    units that score within `relative_floor` of the best, skipping near-duplicates and units that add nothing.

    Args:
        question: the user's question.
        chunks: retrieved passages, best first (judged relevant).
        idf: weight of a word over the notes.
        named: names of the concepts the question names (from the concept graph), if known.
        similarity: cosine of the question with each text (the workspace's embedder); words only when None.
        params: how many units and how close to the best.

    Returns:
        The selected units: passages in the order of their best selected unit, units of one passage in reading
        order.
    """
    p = params or SelectionParams()
    candidates = candidate_units(question, chunks)
    if not candidates:
        return []
    scores = score_units(question, candidates, chunks, idf, similarity, named)
    q_tokens = set(content_tokens(question))
    ranked = sorted(range(len(candidates)), key=lambda i: -scores[i])
    useful = [i for i in ranked if not _adds_nothing(candidates[i][1], q_tokens)] or ranked[:1]
    picked: list[int] = []
    covers: dict[int, list[str]] = {}
    contexts = "\n".join(_context(c, chunks) for c in candidates)
    for term in key_terms(question, idf, named, present=lambda t: mentions(contexts, t)):
        holder = _defining_unit(term, useful, candidates, chunks)
        if holder is not None:
            covers.setdefault(holder, []).append(term)
            if holder not in picked and len(picked) < p.max_units:
                picked.append(holder)
    best = scores[useful[0]]
    for i in useful:
        if len(picked) >= p.max_units or scores[i] < best * p.relative_floor:
            break
        if i in picked or any(_overlap(candidates[i][1].text, candidates[j][1].text) >= p.duplicate_overlap
                              for j in picked):
            continue
        picked.append(i)
    # passages in the order of their best selected unit (the answer first, not the passage search ranked first),
    # units of one passage in reading order
    lead = {}
    for i in picked:
        lead[candidates[i][0]] = max(lead.get(candidates[i][0], float("-inf")), scores[i])
    picked.sort(key=lambda i: (-lead[candidates[i][0]], candidates[i][0], candidates[i][1].line_start))
    words = content_tokens(question)
    return [Evidence(_focused(candidates[i][1], words), chunks[candidates[i][0]], scores[i],
                     tuple(covers.get(i, ()))) for i in picked]


def _focused(unit: Unit, words: Sequence[str]) -> Unit:
    """A code unit as quoted and given to the model: long code cut to the lines about the question."""
    if unit.kind != "code":
        return unit
    return replace(unit, text=focus_code(unit.text, words))


def _defining_unit(term: str, order: Sequence[int], candidates: Sequence[tuple[int, Unit]],
                   chunks: Sequence[Chunk]) -> int | None:
    """The best unit about a term: one under a heading that names it, else one whose sentence starts with it,
    else any that mentions it (in score order within each)."""
    naming = [i for i in order if mentions(_context(candidates[i], chunks), term)]

    def about(i: int) -> tuple[bool, bool, tuple[int, int]]:
        rank, unit = candidates[i]
        headed = mentions(chunks[rank].heading_path[-1] if chunks[rank].heading_path else "", term)
        # under its own heading, notes lead with what a thing is: the section's first unit defines it (by line:
        # a later passage of a long section may rank first and start mid-way, in the tail of a code block)
        return not headed, not unit.full_text.lower().lstrip().startswith(term.lower()), \
            (unit.line_start, i) if headed else (0, 0)

    return min(naming, key=lambda i: (about(i), naming.index(i)), default=None)


def _context(candidate: tuple[int, Unit], chunks: Sequence[Chunk]) -> str:
    rank, unit = candidate
    return f"{' '.join(chunks[rank].heading_path)}\n{unit.full_text}"


def evidence_citation(n: int, evidence: Evidence) -> Citation:
    """A citation of one unit: its chunk, with the unit's own lines and text."""
    base = citation_for(n, evidence.chunk)
    return base.model_copy(update={"line_start": evidence.unit.line_start, "line_end": evidence.unit.line_end,
                                   "text": evidence.unit.full_text})


def titled(evidence: Evidence) -> str:
    """The unit's text, led by what its heading is about when the unit does not name it (“GPT · 架构：单向Transformer解码器”)."""
    title = re.sub(r"^[\d.\s]+|^[一二三四五六七八九十]+、", "", evidence.chunk.heading_path[-1]).strip() \
        if evidence.chunk.heading_path else ""
    lead = f"{title} · " if title and not mentions(evidence.unit.full_text, title) else ""
    return lead + evidence.unit.full_text


def quote(evidence: Evidence, n: int) -> str:
    """A unit as quoted in an answer: code and formulas as blocks, the rest inline, each with its `[n]`; a unit
    that does not name what its heading is about ("架构：单向Transformer解码器" under "6.2 GPT") gets the heading."""
    title = re.sub(r"^[\d.\s]+|^[一二三四五六七八九十]+、", "", evidence.chunk.heading_path[-1]).strip() \
        if evidence.chunk.heading_path else ""
    lead = f"{title} · " if title and not mentions(evidence.unit.full_text, title) else ""
    if evidence.unit.kind in ("code", "formula"):
        context = f"{evidence.unit.context}\n" if evidence.unit.context else ""
        return f"{lead.removesuffix(' · ')}\n{context}{evidence.unit.text}\n[{n}]".lstrip("\n")
    return f"{lead}{evidence.unit.full_text} [{n}]"


def quoted_answer(selection: Sequence[Evidence]) -> tuple[str, tuple[Citation, ...]]:
    """The `--no-llm` answer: the selected units, each followed by its number, and their citations."""
    lines = [quote(e, n) for n, e in enumerate(selection, start=1)]
    return "\n".join(lines), tuple(evidence_citation(n, e) for n, e in enumerate(selection, start=1))


_PAREN = re.compile(r"[（(][^）)]*[）)]")


def explains(unit: Unit, term: str, heading: str, asked: Sequence[str] = ()) -> bool:
    """Whether a unit says something about a term it mentions: the passage is headed by it, or the unit has at
    least three words of its own beside the term and its spelled-out name in brackets. Code explains how a thing
    works only through the question's own words (`asked`, when given): `DBSCAN(eps=0.5, min_samples=5)` says
    nothing of how DBSCAN decides which points are noise; PPO's code with its `ratio` and `clip` shows how PPO
    clips the probability ratio."""
    if unit.kind == "code" and asked:
        lowered = unit.text.lower()
        return any(word.lower() in lowered for word in asked if not mentions(term, word))
    if mentions(heading.split(">")[-1], term):
        return True
    if mentions(unit.context, term) and len(content_tokens(unit.text)) >= 2:
        return True  # an item under "Bagging：" describes Bagging
    if not mentions(unit.text, term):
        return False
    rest = _PAREN.sub(" ", unit.text)
    rest = re.sub(re.escape(term), " ", rest, flags=re.IGNORECASE)
    return len(set(content_tokens(rest))) >= 3


def _leads_a_list(units: Sequence[Unit], i: int) -> bool:
    """A line that introduces the list right below it ("MDP五元组：(S, A, P, R, γ)" above "- S：状态空间", ...):
    the list says what the line names."""
    unit = units[i]
    after = units[i + 1] if i + 1 < len(units) else None
    return (after is not None and after.kind == "list_item" and after.line_start <= unit.line_end + 2
            and re.search(r"[：:]", unit.text) is not None and unit.kind != "list_item")


def named_not_explained(terms: Sequence[str], chunks: Sequence[Chunk],
                        asked: Sequence[str] = ()) -> tuple[str, list[Evidence]] | None:
    """The question's concept that the passages name but never explain, with where it is named; only when no
    concept of the question is explained (a question on LoRA and Adapter where LoRA is explained is answered).
    `asked`: the question's content words, when code does not answer it (see `explains`).

    Returns:
        (term, the units naming it), or None.
    """
    found: tuple[str, list[Evidence]] | None = None
    for term in terms:
        naming: list[Evidence] = []
        explained = False
        for chunk in chunks:
            heading = " > ".join(chunk.heading_path)
            units = split_units(chunk)
            for i, unit in enumerate(units):
                if mentions(unit.full_text, term) or mentions(heading.split(">")[-1], term):
                    if explains(unit, term, heading, asked) or _leads_a_list(units, i):
                        explained = True
                        break
                    naming.append(Evidence(unit, chunk, 0.0, (term,)))
            if explained:
                break
        if explained:
            return None
        if naming and found is None:
            found = term, naming[:3]
    return found

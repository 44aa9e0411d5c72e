"""`related` edges: concepts whose descriptions (name, aliases and defining text; for a heading, the chunk that opens
its section) embed close to each other."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ingest.graph.concepts import ConceptSet
from kg.matcher import jieba_tokenizer
from studygraph.records import Edge, Evidence
from studygraph.settings import GraphSettings
from studygraph.text import CJK_RUN

_DESCRIPTION_CHARS = 400
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{3,}")
# Distinctive words two descriptions must share. Re-measured with the multilingual USE embedder (issue 14): on
# the seed the filter keeps 31 related edges of 68; of 15 sampled among the 37 it removes, 4 were related
# ("accuracy"/"precision", "Prefix Tuning"/"Prompt Tuning") and 11 not ("learning rate"/"决策树", "tokenizer"/
# "变分自编码器"); on cs231n it removes 32 of 118, about half of them right. Kept: it still buys precision.
MIN_SHARED_FEATURES = 2
# A heading's section-opening chunk stands for its description only when at least this share of the chunk's text is
# prose or list items (issue 13): the seed's chapters open with tables and code, whose vectors describe the concept
# badly (reusing every heading's chunk lost it 4 right related edges: BERT/tokenizer, 计算机视觉/ResNet). Judged by
# hand against embedding every description, on the seed and the four corpora (334 edges): at 0.5, 32 right and 14
# wrong edges came, 23 right and 15 wrong went (seed +1 right); at 0.3, 35/17 came, 27/16 went; at 0.7, 25/13
# came, 19/14 went; at 0.9, 17/12 came, 13/9 went; the chunk's kind alone ("prose", which keeps out any chunk with
# a formula block), 27/15 came, 19/13 went, and embedded 0.69 of paddle-dl-zh's description tokens against 0.50.
PROSE_SHARE_TO_REUSE = 0.5
COMMON_FEATURE_SHARE = 0.05  # a word in more descriptions than this says nothing about a pair
_FUNCTION_WORDS = frozenset(
    "我们 可以 一个 这个 那个 进行 使用 通过 因为 所以 如果 但是 然后 以及 或者 没有 就是 这样 那么 什么 如何 其中 "
    "对于 由于 所示 如下 例如 比如 之间 一种 不同 需要 能够 同时 这里 时候 问题 方法 模型 数据 计算 可能 一般 其他 "
    "the and for with that this are from can which not when into its use used using".split()
)


def _features(text: str) -> set[str]:
    """Content words of a description: Latin words and jieba words of two or more Chinese characters."""
    found = {w.lower() for w in _LATIN_WORD.findall(text)}
    for run in CJK_RUN.findall(text):  # jieba's dictionary is loaded only when there is Chinese to cut
        found.update(w for w in jieba_tokenizer().cut(run, HMM=False) if len(w) >= 2)
    return found - _FUNCTION_WORDS


def _shared_context(descriptions: list[str]) -> Callable[[int, int], list[str]]:
    """A test that two descriptions share distinctive words (an English-only embedder sees little in Chinese)."""
    features = [_features(d) for d in descriptions]
    frequency: dict[str, int] = {}
    for feats in features:
        for feat in feats:
            frequency[feat] = frequency.get(feat, 0) + 1
    limit = max(2, COMMON_FEATURE_SHARE * len(descriptions))
    distinctive = [{f for f in feats if frequency[f] <= limit} for feats in features]
    return lambda i, j: sorted(distinctive[i] & distinctive[j])


def describe(cs: ConceptSet, concept_id: str) -> str:
    """Name, aliases and the text where the concept is defined (its section's prose, its paragraph, its item;
    code is left out: identifiers such as `torch` or `model` make unrelated snippets look alike)."""
    concept = cs.concepts[concept_id]
    occ = cs.occurrences[cs.home[concept_id]]
    scan = cs.scan.by_id[occ.section_id]
    if occ.kind == "heading":
        lines = [line.text for line in scan.lines if line.kind in ("prose", "item", "table")]
    elif occ.kind == "bold" and occ.term is not None:
        lines = [line.text for line in scan.lines if line.owner == occ.term and line.kind in ("prose", "item", "table")]
    else:
        lines = [line.text for line in scan.lines if line.no == occ.line]
    head = " / ".join((concept.name, *concept.aliases[:3]))
    return f"{head}: {' '.join(lines)}"[:_DESCRIPTION_CHARS]


def section_chunk(cs: ConceptSet, concept_id: str) -> str | None:
    """The chunk that opens the section a concept is the heading of, when that chunk is mostly prose: its own lines
    are at least `PROSE_SHARE_TO_REUSE` prose or list items by characters (None: not defined by a heading, a
    heading whose section has no text of its own, or one whose section opens with code, a table or formulas)."""
    occ = cs.occurrences[cs.home[concept_id]]
    if occ.kind != "heading" or occ.chunk_id is None:
        return None
    lines = [line for line in cs.scan.by_id[occ.section_id].lines
             if line.chunk_id == occ.chunk_id and line.kind != "blank"]
    total = sum(len(line.text) for line in lines)
    prose = sum(len(line.text) for line in lines if line.kind in ("prose", "item"))
    return occ.chunk_id if total and prose >= PROSE_SHARE_TO_REUSE * total else None


def description_vectors(cs: ConceptSet, ids: Sequence[str], descriptions: Sequence[str],
                        embed: Callable[[Sequence[str]], np.ndarray],
                        chunk_vectors: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """One vector per concept: its description embedded, or for a concept defined by a heading the vector ingest
    already made for the chunk that opens its section (`section_chunk`), when `chunk_vectors` holds it.

    Why (issue 13): descriptions added 25-26% to the tokens ingest embeds on the Chinese corpora (58% on the seed),
    most of them in headings' descriptions, which are mostly their section's first chunk (median cosine of the two
    vectors 0.83-0.91 on the four corpora, 0.52 on the seed, whose chapters open with tables). Reusing that chunk's
    vector where it is mostly prose (`section_chunk`) cut the description tokens embedded by 50% on paddle-dl-zh,
    46% ailearning-notes-zh, 35% cs231n-notes-en, 25% obsidian-thesis-en, 14% seed. Of the 334 related edges of
    those five sets 38 went and 46 came, judged by hand 23 right and 15 wrong among those gone, 32 right and 14
    wrong among those new (the seed gained 1 right one, cs231n-notes-en 9, paddle-dl-zh 2; ailearning-notes-zh
    lost 2, obsidian-thesis-en 1). Reusing every heading's chunk cut more (63% on paddle-dl-zh) but the seed lost
    4 right edges (41/16 gone, 47/17 new); reusing the chunk of any concept whose description fills half of it
    (bold terms and items too) judged worse (36/14 gone, 40/23 new).

    Args:
        cs: the concepts.
        ids: the concepts, in order.
        descriptions: `describe(cs, id)` for each of `ids`.
        embed: returns one normalized vector per text.
        chunk_vectors: chunk id -> the normalized vector of the chunk's `context_text()`; None: embed every
            description.
    """
    rows: dict[int, np.ndarray] = {}
    if chunk_vectors is not None:
        for i, concept_id in enumerate(ids):
            chunk = section_chunk(cs, concept_id)
            if chunk is not None and chunk in chunk_vectors:
                rows[i] = chunk_vectors[chunk]
    fresh = [i for i in range(len(ids)) if i not in rows]
    if fresh:
        rows.update(zip(fresh, np.asarray(embed([descriptions[i] for i in fresh]), dtype=np.float32), strict=True))
    return np.asarray([rows[i] for i in range(len(ids))], dtype=np.float32)


def related_edges(cs: ConceptSet, embed: Callable[[Sequence[str]], np.ndarray], settings: GraphSettings,
                  existing: Sequence[Edge], chunk_vectors: Mapping[str, np.ndarray] | None = None) -> list[Edge]:
    """For each concept, its most similar others above the threshold (when it is also among theirs, loosely),
    once per pair, skipping pairs already linked by another edge. The two descriptions must also share some
    distinctive words: short concept descriptions embed close together when they share only their genre.

    Args:
        cs: the concepts.
        embed: returns one normalized vector per text.
        settings: `related_top_k` and `related_threshold`.
        existing: edges already found; a pair they link gets no `related` edge.
        chunk_vectors: chunk id -> vector, as ingest embedded the chunks (`description_vectors`); None: every
            description is embedded.
    """
    ids = [cid for cid in sorted(cs.concepts, key=lambda c: cs.concepts[c].order) if cs.concepts[cid].chunks]
    if len(ids) < 2:
        return []
    descriptions = [describe(cs, cid) for cid in ids]
    shared = _shared_context(descriptions)
    vectors = description_vectors(cs, ids, descriptions, embed, chunk_vectors)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    linked = {frozenset((e.source, e.target)) for e in existing}
    k = settings.related_top_k
    order = np.argsort(-sims, axis=1, kind="stable")
    wide = [set(order[i, : 2 * k].tolist()) for i in range(len(ids))]
    chosen: dict[frozenset[str], tuple[float, list[str]]] = {}
    for i, cid in enumerate(ids):
        for j in order[i, :k]:
            # Near-mutual neighbours only: a hub that is everyone's neighbour is no one's in particular.
            pair = frozenset((cid, ids[j]))
            if sims[i, j] < settings.related_threshold or i not in wide[j] or pair in linked:
                continue
            words = shared(i, int(j))
            if len(words) >= MIN_SHARED_FEATURES:
                chosen[pair] = (float(sims[i, j]), words[:4])
    edges = []
    for pair, (sim, words) in chosen.items():
        a, b = sorted(pair, key=lambda c: (cs.concepts[c].order, c))
        detail = f"cosine {sim:.2f}; both say {', '.join(words)}"
        evidence = tuple(dict.fromkeys(Evidence(chunk_id=cs.concepts[c].chunks[0], rule="embedding_similarity",
                                                detail=detail) for c in (a, b)))
        edges.append(Edge(source=a, target=b, type="related", weight=round(sim, 3), evidence=evidence))
    return sorted(edges, key=lambda e: (e.source, e.target))

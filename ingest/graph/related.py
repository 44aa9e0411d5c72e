"""`related` edges: concepts whose descriptions (name, aliases and defining text) embed close to each other."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

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


def related_edges(cs: ConceptSet, embed: Callable[[Sequence[str]], np.ndarray], settings: GraphSettings,
                  existing: Sequence[Edge]) -> list[Edge]:
    """For each concept, its most similar others above the threshold (when it is also among theirs, loosely),
    once per pair, skipping pairs already linked by another edge. The two descriptions must also share some
    distinctive words: short concept descriptions embed close together when they share only their genre.

    Args:
        cs: the concepts.
        embed: returns one normalized vector per text.
        settings: `related_top_k` and `related_threshold`.
        existing: edges already found; a pair they link gets no `related` edge.
    """
    ids = [cid for cid in sorted(cs.concepts, key=lambda c: cs.concepts[c].order) if cs.concepts[cid].chunks]
    if len(ids) < 2:
        return []
    descriptions = [describe(cs, cid) for cid in ids]
    shared = _shared_context(descriptions)
    vectors = np.asarray(embed(descriptions), dtype=np.float32)
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

"""Tune and report hybrid search on the dev sets' fixed halves: fit on "tune", report "tune" and "test".

Usage:
    python bench/tune_retrieval.py                       # current defaults, every set, both halves
    python bench/tune_retrieval.py --chunk-tokens 128,256,384   # which chunk size serves recall best
    python bench/tune_retrieval.py --grid                # search the fusion knobs on the tuning halves
    python bench/tune_retrieval.py --misses              # the tuning halves' questions hybrid ranks below 1

Each corpus is ingested once per chunk size into --cache (later runs reuse it: ingest skips unchanged notes).
The grid scores a setting by its mean hybrid recall@5 over the tuning halves (ties: the worst set's, then
MRR), and prints both halves for the winner and for each knob moved alone to its other values (0 turns a
knob off), so a knob is kept only when the test halves agree that it earns its place.
--misses lists, for the tuning halves only (the test halves' questions are reported, never read), every question
the hybrid search does not rank first, with the rank each search mode gives its first relevant passage: whether
a miss is one retriever's (fusion let the other's noise push it out) or both's (the question is worded far from
its passage) is what tells a general mechanism from a fitted weight.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.evaluate import evaluate, load_qa  # noqa: E402
from retrieval.search import SearchParams  # noqa: E402
from studygraph.settings import Settings  # noqa: E402

DATA = ROOT / "tests" / "data"
CORPORA = DATA / "corpora"
SETS = {
    "seed": (ROOT / "data" / "notes" / "ai-knowledge-system.md", DATA / "seed-dev-qa.jsonl"),
    "paddle": (CORPORA / "paddle-dl-zh", DATA / "paddle-dev-qa.jsonl"),
    "cs231n": (CORPORA / "cs231n-notes-en", DATA / "cs231n-dev-qa.jsonl"),
    "ailearning": (CORPORA / "ailearning-notes-zh", DATA / "ailearning-dev-qa.jsonl"),
    "obsidian": (CORPORA / "obsidian-thesis-en", DATA / "obsidian-dev-qa.jsonl"),
}
MODES = ("dense", "lexical", "hybrid")
# Knobs searched by --grid, and the value that turns each compensation off (1.0 for the cjk_* factors).
GRID = {
    "rrf_k": [5, 10, 20, 60],
    "dense_weight": [0.3, 0.5, 0.7, 1.0, 1.4],
    "cjk_dense_weight": [0.25, 0.5, 1.0],
    "cjk_alias_weight": [0.35, 1.0],
    "concept_boost": [0.0, 0.5],
    "alias_weight": [0.0, 0.3, 0.6],
}


# Retrieval settings read when the indexes are written (a change rebuilds the lexical index on the next ingest).
BUILD_KNOBS = ("heading_repeat", "bm25_k1", "bm25_b")


def open_searchers(chunk_tokens: int, cache: Path, names: list[str], model: str | None = None,
                   build: dict | None = None) -> dict:
    """A searcher per set over its cached workspace, ingested with these build-time retrieval settings."""
    from assistant.service import StudyService
    from ingest.pipeline import ingest_paths
    from retrieval.embedders import build_embedder

    base = Settings()
    if model:
        base = Settings(embedder=base.embedder.model_copy(update={"model": model}))
    retrieval = base.retrieval.model_copy(update=build or {})
    embedder = build_embedder(base.embedder)
    searchers = {}
    for name in names:
        notes, _ = SETS[name]
        # The corpora's SOURCE.txt (origin and licence) is not a note: markdown only, as in the tests.
        tag = "" if model is None else "-" + model.replace("/", "_").replace(":", "_")
        # Build-time settings name the cached workspace: an ingest of unchanged notes writes no new generation,
        # so it would not rebuild the lexical index for them.
        tag += "".join(f"-{knob}{getattr(retrieval, knob)}" for knob in BUILD_KNOBS)
        settings = Settings(workspace=cache / f"{name}-{chunk_tokens}{tag}", embedder=base.embedder,
                            retrieval=retrieval,
                            ingest=base.ingest.model_copy(update={"chunk_max_tokens": chunk_tokens,
                                                                  "extensions": [".md"]}))
        started = time.perf_counter()
        report = ingest_paths([notes], settings, embedder=embedder)
        print(f"# {name}: {report.chunks} chunks, ingest {time.perf_counter() - started:.1f}s",
              file=sys.stderr)
        searchers[name] = StudyService(settings, embedder=embedder).searcher
    return searchers


def score(searchers: dict, names: list[str], split: str, overrides: dict, modes=MODES) -> dict:
    """{set: {mode: {"recall@5", "mrr", "zh": recall@5 of Chinese questions}}} for one half."""
    out = {}
    for name in names:
        searcher = searchers[name]
        searcher.settings = Settings().retrieval.model_copy(update=overrides)
        items = load_qa(SETS[name][1], split=split)
        report = evaluate(items, lambda qs, mode, k, s=searcher: s.search_many(qs, SearchParams(k=k, mode=mode)),
                          ks=[1, 5], modes=modes)
        out[name] = {mode: {"recall@5": m["recall@5"], "mrr": round(m["mrr"], 3),
                            "zh": report["by_lang"].get("zh", {}).get(mode, {}).get("recall@5")}
                     for mode, m in report["modes"].items()}
    return out


def objective(result: dict) -> tuple[float, float, float]:
    recalls = [r["hybrid"]["recall@5"] for r in result.values()]
    mrrs = [r["hybrid"]["mrr"] for r in result.values()]
    return (sum(recalls) / len(recalls), min(recalls), sum(mrrs) / len(mrrs))


def table(label: str, result: dict) -> None:
    print(f"\n{label}")
    print(f"{'set':12} " + " ".join(f"{m + ' r@5':>12}" for m in MODES) + f" {'hyb mrr':>8} {'zh dense':>9}")
    for name, r in result.items():
        zh = r.get("dense", {}).get("zh")
        print(f"{name:12} " + " ".join(f"{r[m]['recall@5']:12.3f}" if m in r else f"{'':12}" for m in MODES)
              + f" {r['hybrid']['mrr']:8.3f} {'' if zh is None else f'{zh:9.3f}'}")


MISS_DEPTH = 30  # ranks looked at by --misses (the fusion's default candidate count)


def misses(searchers: dict, names: list[str], overrides: dict) -> list[dict]:
    """The tuning halves' questions whose first relevant passage hybrid search does not rank first.

    Returns:
        [{"set", "q", "lang", "gold", "ranks": {mode: rank within MISS_DEPTH or None}}], worst hybrid rank first.
    """
    rows = []
    for name in names:
        searcher = searchers[name]
        searcher.settings = Settings().retrieval.model_copy(update=overrides)
        items = load_qa(SETS[name][1], split="tune")
        report = evaluate(items, lambda qs, mode, k, s=searcher: s.search_many(qs, SearchParams(k=k, mode=mode)),
                          ks=[MISS_DEPTH])
        for item, question in zip(items, report["questions"], strict=True):
            if question["ranks"]["hybrid"] != 1:
                rows.append({"set": name, "q": item.q, "lang": item.lang, "gold": item.heading or item.quote,
                             "ranks": question["ranks"]})
    return sorted(rows, key=lambda row: -(row["ranks"]["hybrid"] or MISS_DEPTH + 1))


def print_misses(rows: list[dict]) -> None:
    print(f"\ntuning-half questions not ranked first by hybrid (rank of the first relevant passage, '-' beyond "
          f"{MISS_DEPTH})")
    print(f"{'set':11} {'dense':>5} {'lex':>5} {'hyb':>5}  question -> gold")
    for row in rows:
        ranks = " ".join(f"{'-' if row['ranks'][m] is None else row['ranks'][m]:>5}" for m in MODES)
        print(f"{row['set']:11} {ranks}  {row['q']} -> {row['gold']}")


def grid(searchers: dict, names: list[str]) -> dict:
    keys = list(GRID)
    best, best_key = None, None
    for values in itertools.product(*GRID.values()):
        overrides = dict(zip(keys, values, strict=True))
        result = score(searchers, names, "tune", overrides, modes=("hybrid",))
        key = objective(result)
        if best_key is None or key > best_key:
            best, best_key = overrides, key
            print(f"# better on tune: {key} {overrides}", file=sys.stderr)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunk-tokens", default=str(Settings().ingest.chunk_max_tokens))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "studygraph-tune")
    parser.add_argument("--grid", action="store_true", help="search the fusion knobs on the tuning halves")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="a retrieval setting to evaluate instead of its default (repeatable); build-time "
                        "ones (heading_repeat, bm25_k1, bm25_b) rebuild the cached lexical indexes")
    parser.add_argument("--misses", action="store_true", help="list the tuning halves' questions hybrid ranks "
                        "below first, with each mode's rank (the failure structure; test halves never listed)")
    parser.add_argument("--model", help="another embedder to compare (e.g. bundled:all-MiniLM-L6-v2)")
    parser.add_argument("--halves", default="tune,test", help="halves to report (tune only while comparing "
                        "mechanisms: the test half is reported once per kept change)")
    parser.add_argument("--json", type=Path, help="also write every result here")
    args = parser.parse_args()
    names = args.sets.split(",")
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    results = {}
    for chunk_tokens in [int(t) for t in args.chunk_tokens.split(",")]:
        build = {knob: value for knob, value in overrides.items() if knob in BUILD_KNOBS}
        searchers = open_searchers(chunk_tokens, args.cache, names, args.model, build)
        if args.grid:
            overrides = grid(searchers, names)
            print(f"\nbest on the tuning halves: {overrides}")
            for knob, values in GRID.items():  # one knob moved at a time: what each value costs, on both halves
                for value in values:
                    if value != overrides[knob]:
                        moved = {**overrides, knob: value}
                        for split in ("tune", "test"):
                            result = score(searchers, names, split, moved, modes=("hybrid",))
                            print(f"{knob}={value} ({split}): {tuple(round(x, 3) for x in objective(result))}")
                            results[f"{chunk_tokens}/{knob}={value}/{split}"] = result
        if args.misses:
            rows = misses(searchers, names, overrides)
            print_misses(rows)
            results[f"{chunk_tokens}/tune-misses"] = rows
        for split in args.halves.split(","):
            result = score(searchers, names, split, overrides)
            table(f"chunk_max_tokens={chunk_tokens} {split} half {overrides or '(defaults)'}", result)
            print(f"objective {objective(result)}")
            results[f"{chunk_tokens}/{split}"] = result
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()

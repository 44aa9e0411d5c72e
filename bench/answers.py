"""Answer quality on question sets: valid citations, right-section citations, not-found rate; threshold calibration.

Usage:
    python bench/answers.py [--workspace WS | --notes PATH ...] [--qa FILE] [--ood FILE] [--no-llm] [--json]
    python bench/answers.py --calibrate [...]

Without --workspace, the notes (default: the seed note) are ingested into a temporary workspace with the real
bundled embedder. Each development question (JSONL with "q" and a gold "heading" and/or "quote") is asked through
`Assistant.ask`; each out-of-domain question (JSONL with "q") too. Reported:
- valid: share of answers whose every citation maps to an existing chunk with the same file and lines;
- right section: share of development answers citing a chunk under the gold heading (or holding the quote);
- answered: share of development questions not wrongly declared "not in your notes";
- ood not_found: share of out-of-domain questions answered "not in your notes";
- modes (llm / extractive / not_found / path), mean prompt tokens and seconds.

--calibrate prints the signals behind the thresholds instead:
- relevance (not found): per question, whether it names a concept, its domain evidence (Chinese questions), the
  IDF-weighted coverage of its words by the top passages and the best dense cosine; then, for questions naming no
  concept, the range of the deciding signal over dev questions next to its maximum over OOD questions, and the
  decision with the current settings;
- support: scores of sentences against their own passage (verbatim, with a third of their words dropped, with
  a filler clause added, with their clauses reordered and joined by connectives) and against an unrelated passage
  of the same notes, with percentiles and error rates per
  threshold. The default thresholds in studygraph/settings.py (assistant.*) come from this output on the seed.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.answer import AnswerParams  # noqa: E402
from assistant.extractive import passage_units  # noqa: E402
from assistant.relevance import english_prose  # noqa: E402
from assistant.service import StudyService  # noqa: E402
from assistant.verify import evidence_features, support_score  # noqa: E402
from retrieval.evaluate import QAItem, is_relevant, load_qa  # noqa: E402
from studygraph.settings import load_settings  # noqa: E402
from studygraph.text import language_of  # noqa: E402

SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"
DEV = REPO / "tests" / "data" / "seed-dev-qa.jsonl"
OOD = REPO / "tests" / "data" / "ood-questions.jsonl"


def load_ood(path: Path) -> list[str]:
    return [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def citation_valid(service: StudyService, citation) -> bool:  # noqa: ANN001
    chunk = service.chunks.get(citation.chunk_id)
    return chunk is not None and (chunk.source, chunk.line_start, chunk.line_end) == (
        citation.source, citation.line_start, citation.line_end)


def evaluate(service: StudyService, dev: list[QAItem], ood: list[str], params: AnswerParams) -> dict:
    """Ask every question and score the answers (see the module docstring)."""
    rows = []
    prompt_tokens: list[int] = []
    for kind, question, item in [("dev", i.q, i) for i in dev] + [("ood", q, None) for q in ood]:
        prompt = None
        answer = None
        for event in service.assistant.events(question, params):
            if event.kind == "prompt":
                prompt = event.prompt
            elif event.kind == "answer":
                answer = event.answer
        if prompt is not None:
            prompt_tokens.append(prompt.tokens)
        chunks = [service.chunks.get(c.chunk_id) for c in answer.citations]
        rows.append({
            "set": kind, "q": question, "mode": answer.mode, "seconds": answer.seconds,
            "valid": all(citation_valid(service, c) for c in answer.citations),
            "right_section": bool(item) and any(c is not None and is_relevant(c, item) for c in chunks),
            "answer": answer.answer[:160],
        })
        logging.info("%s %-9s %s", kind, answer.mode, question)
    devs = [r for r in rows if r["set"] == "dev"]
    oods = [r for r in rows if r["set"] == "ood"]
    modes: dict[str, int] = {}
    for r in rows:
        modes[r["mode"]] = modes.get(r["mode"], 0) + 1
    return {
        "questions": len(rows),
        "valid": sum(r["valid"] for r in rows) / len(rows),
        "right_section": sum(r["right_section"] for r in devs) / max(1, len(devs)),
        "answered": sum(r["mode"] != "not_found" for r in devs) / max(1, len(devs)),
        "ood_not_found": sum(r["mode"] == "not_found" for r in oods) / max(1, len(oods)),
        "modes": modes,
        "prompt_tokens_mean": statistics.mean(prompt_tokens) if prompt_tokens else 0,
        "seconds_mean": statistics.mean(r["seconds"] for r in rows),
        "rows": rows,
    }


def relevance_table(service: StudyService, dev: list[QAItem], ood: list[str], k: int) -> list[dict]:
    """The not-found signals of every question and the decision with the current settings (no generation)."""
    from retrieval.search import SearchParams

    assistant = service.assistant
    out = []
    for kind, question in [("dev", i.q) for i in dev] + [("ood", q) for q in ood]:
        hits = tuple(service.searcher.search(question, SearchParams(k=k)))
        rel = assistant.relevance(question, hits)
        if language_of(question) == "zh":
            route = "zh"
        else:
            route = "en/en" if english_prose([h.chunk for h in hits[:3]]) else "en/zh"
        out.append({"set": kind, "q": question, "route": route, "dense": rel.dense, "coverage": rel.coverage,
                    "domain": rel.domain, "concepts": list(rel.concepts), "relevant": rel.relevant})
    return out


def signal_ranges(table: list[dict]) -> dict:
    """For questions naming no concept, per kind of question, the range of the signal that decides it, dev vs OOD:
    a threshold belongs between the OOD maximum and the bulk of the dev values."""
    signals = {"zh": ("domain",), "en/zh": ("coverage", "dense"), "en/en": ("dense",)}
    ranges: dict = {}
    for route, names in signals.items():
        rows = [r for r in table if r["route"] == route and not r["concepts"]]
        for name in names:
            values = {kind: sorted(r[name] for r in rows if r["set"] == kind) for kind in ("dev", "ood")}
            ranges[f"{route} {name}"] = {"dev": values["dev"], "ood_max": max(values["ood"], default=None)}
    dev = [r["relevant"] for r in table if r["set"] == "dev"]
    ood = [not r["relevant"] for r in table if r["set"] == "ood"]
    ranges["decision"] = {"dev_kept": sum(dev) / max(1, len(dev)), "ood_rejected": sum(ood) / max(1, len(ood)),
                          "dev_with_concept": sum(bool(r["concepts"]) for r in table if r["set"] == "dev")}
    return ranges


def _drop_third(sentence: str, rng: random.Random) -> str:
    """The sentence with a third of its words (jieba's, or spaces') left out: a loose restatement."""
    import jieba

    words = list(jieba.cut(sentence))
    for i in sorted(rng.sample(range(len(words)), len(words) // 3), reverse=True):
        del words[i]
    return "".join(words)


def _reword(sentence: str) -> str:
    """The sentence's clauses in reverse order, joined by connectives: a restatement in other words' order."""
    clauses = [c for c in re.split(r"[；，。,;:：]\s*", sentence) if c.strip()]
    zh = any("\u4e00" <= ch <= "\u9fff" for ch in sentence)
    return ("，而且" if zh else ", and also ").join(reversed(clauses)) + ("。" if zh else ".")


def support_samples(service: StudyService, dev: list[QAItem], seed: int = 7) -> dict[str, list[float]]:
    """Support scores of sentences against their own passage (three ways) and an unrelated one."""
    rng = random.Random(seed)
    weight = service.assistant.stats.idf  # as the assistant weighs support
    chunks = [c for c in service.chunks.values() if c.kind != "code"]
    gold = [c for c in chunks if any(is_relevant(c, item) for item in dev)]
    samples: dict[str, list[float]] = {"verbatim": [], "drop_third": [], "with_filler": [], "reworded": [],
                                       "unrelated": []}
    for chunk in gold:
        own = evidence_features(chunk)
        others = [c for c in chunks if c.section_id != chunk.section_id]
        for unit in passage_units(chunk.text):
            if unit.kind in ("code", "formula") or len(unit.text) < 8:
                continue
            samples["verbatim"].append(support_score(unit.text, own, weight))
            samples["drop_third"].append(support_score(_drop_third(unit.text, rng), own, weight))
            filler = "根据笔记，这一点很重要：" if any("\u4e00" <= ch <= "\u9fff" for ch in unit.text) else \
                "According to the notes, this matters: "
            samples["with_filler"].append(support_score(filler + unit.text, own, weight))
            samples["reworded"].append(support_score(_reword(unit.text), own, weight))
            samples["unrelated"].append(support_score(unit.text, evidence_features(rng.choice(others)), weight))
    return samples


def support_report(samples: dict[str, list[float]]) -> dict:
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    report = {name: {"n": len(v), "p05": pct(v, 0.05), "p50": pct(v, 0.5), "p95": pct(v, 0.95)}
              for name, v in samples.items()}
    positives = samples["verbatim"] + samples["drop_third"] + samples["with_filler"] + samples["reworded"]
    report["by_threshold"] = [
        {"threshold": t / 20, "false_reject": sum(s < t / 20 for s in positives) / max(1, len(positives)),
         "false_accept": sum(s >= t / 20 for s in samples["unrelated"]) / max(1, len(samples["unrelated"]))}
        for t in range(2, 16)
    ]
    return report


def open_service(args: argparse.Namespace, tmp: str) -> StudyService:
    from retrieval.embedders import build_embedder
    from studygraph.settings import EmbedderSettings

    embedder = build_embedder(EmbedderSettings())
    if args.workspace:  # settings from studygraph.toml and STUDYGRAPH_* as for the CLI
        return StudyService(load_settings(overrides={"workspace": args.workspace}), embedder=embedder)
    from ingest.pipeline import ingest_paths

    settings = load_settings(overrides={"workspace": Path(tmp) / "ws"})
    ingest_paths(args.notes or [SEED], settings, embedder=embedder)
    return StudyService(settings, embedder=embedder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="An ingested workspace (default: ingest --notes).")
    parser.add_argument("--notes", type=Path, nargs="*", help="Notes to ingest (default: the seed note).")
    parser.add_argument("--qa", type=Path, default=DEV, help="Development questions (JSONL, q + heading/quote).")
    parser.add_argument("--ood", type=Path, default=OOD, help="Out-of-domain questions (JSONL, q).")
    parser.add_argument("--k", type=int, default=5, help="Passages per question.")
    parser.add_argument("--no-llm", action="store_true", help="Extractive answers only (no model).")
    parser.add_argument("--limit", type=int, help="Only the first N questions of each set.")
    parser.add_argument("--calibrate", action="store_true", help="Print the threshold calibration instead.")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    dev, ood = load_qa(args.qa)[: args.limit], load_ood(args.ood)[: args.limit]
    with tempfile.TemporaryDirectory(prefix="studygraph-answers-") as tmp:
        service = open_service(args, tmp)
        if args.calibrate:
            table = relevance_table(service, dev, ood, args.k)
            result = {"relevance": table, "ranges": signal_ranges(table),
                      "support": support_report(support_samples(service, dev))}
        else:
            result = evaluate(service, dev, ood, AnswerParams(k=args.k, use_llm=not args.no_llm, temperature=0.0))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    elif args.calibrate:
        print_calibration(result)
    else:
        print_evaluation(result)


def print_evaluation(result: dict) -> None:
    for row in result["rows"]:
        flag = "ok " if (row["right_section"] if row["set"] == "dev" else row["mode"] == "not_found") else "-- "
        print(f"{flag}{row['set']} {row['mode']:<10} {row['q']}")
    print(f"\nquestions {result['questions']}, modes {result['modes']}")
    print(f"valid citations      {result['valid']:.3f}")
    print(f"right section (dev)  {result['right_section']:.3f}")
    print(f"answered (dev)       {result['answered']:.3f}")
    print(f"ood not_found        {result['ood_not_found']:.3f}")
    print(f"prompt tokens (mean) {result['prompt_tokens_mean']:.0f}; seconds per answer {result['seconds_mean']:.2f}")


def print_calibration(result: dict) -> None:
    for r in result["relevance"]:
        print(f"{r['set']} {r['route']:<5} {'relevant' if r['relevant'] else 'not found':<9} dense={r['dense']:.2f} "
              f"cov={r['coverage']:.2f} domain={r['domain']:.1f} concepts={len(r['concepts'])} {r['q']}")
    print("\nquestions naming no concept: deciding signal, dev values and the OOD maximum")
    for name, values in result["ranges"].items():
        if name != "decision":
            dev = ", ".join(f"{v:.2f}" for v in values["dev"])
            print(f"  {name:<14} ood max {values['ood_max']}  dev [{dev}]")
    decision = result["ranges"]["decision"]
    print(f"with the current settings: dev kept {decision['dev_kept']:.3f} ({decision['dev_with_concept']} name a "
          f"concept), ood rejected {decision['ood_rejected']:.3f}")
    print("\nsupport scores")
    for name, s in result["support"].items():
        if name != "by_threshold":
            print(f"  {name:<12} n={s['n']:<4} p05={s['p05']:.2f} p50={s['p50']:.2f} p95={s['p95']:.2f}")
    for row in result["support"]["by_threshold"]:
        print(f"  threshold {row['threshold']:.2f}: false reject {row['false_reject']:.3f}, "
              f"false accept {row['false_accept']:.3f}")


if __name__ == "__main__":
    main()

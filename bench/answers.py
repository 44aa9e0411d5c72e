"""Answer quality per question set: does the answer state the fact, cite its passage, come from the model; not-found
on out-of-scope questions; time to the first checked sentence and to the whole answer; the signals behind the
not-found decision (--calibrate). The claim verifier's accuracy on its labelled set: bench/claims.py.

Usage:
    python bench/answers.py [--sets seed paddle ...] [--split tune|test|all] [--no-llm] [--model NAME] [--json]
    python bench/answers.py --calibrate [...]   # relevance signals of dev and out-of-scope questions

Each set's notes are ingested once into --cache (default /tmp/sg/ws-NAME) with the configured
embedder. Reported per set, on the chosen half:
- states fact: the answer's own text holds the gold quote (fuzzy), or most of the words of a unit of the gold
  passage that shares a word with the question (a proxy: a correct paraphrase in other words is missed, and an
  answer in the other language than its notes is never counted);
- cites: the answer cites a unit of a chunk under the gold heading (or holding the quote);
- answered: in-scope questions not declared not-found / named-only;
- llm share: answers composed by the model (mode llm) among answered ones; checked: answers with every sentence passed;
- OOS not-found: out-of-scope questions (tests/data/ood-questions.jsonl) declined: not found, or named but not
  explained (counted apart as oos_named_only);
- first / total: median seconds to the first checked sentence and to the whole answer (models warm).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.answer import AnswerParams  # noqa: E402
from assistant.service import StudyService  # noqa: E402
from assistant.text import content_tokens  # noqa: E402
from assistant.units import focus_code, split_units  # noqa: E402
from retrieval.evaluate import QAItem, is_relevant, load_qa  # noqa: E402
from studygraph.settings import load_settings  # noqa: E402

DATA = REPO / "tests" / "data"
SETS = {
    "seed": (REPO / "data" / "notes", DATA / "seed-dev-qa.jsonl"),
    "paddle": (DATA / "corpora" / "paddle-dl-zh", DATA / "paddle-dev-qa.jsonl"),
    "cs231n": (DATA / "corpora" / "cs231n-notes-en", DATA / "cs231n-dev-qa.jsonl"),
    "ailearning": (DATA / "corpora" / "ailearning-notes-zh", DATA / "ailearning-dev-qa.jsonl"),
    "obsidian": (DATA / "corpora" / "obsidian-thesis-en", DATA / "obsidian-dev-qa.jsonl"),
}
OOD = DATA / "ood-questions.jsonl"


def load_ood(split: str) -> list[dict]:
    rows = [json.loads(line) for line in OOD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split == "all" or r.get("split") == split]


def open_service(name: str, cache: Path, model: str | None) -> StudyService:
    """A service over the set's workspace, ingested on first use."""
    from ingest.pipeline import ingest_paths

    notes, _ = SETS[name]
    settings = load_settings(overrides={"workspace": cache / f"ws-{name if name == 'seed' else notes.name}"})
    if model:
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": model})})
    if not settings.workspace.exists():
        ingest_paths([notes], settings)
    return StudyService(settings)


def states_fact(answer_text: str, item: QAItem, service: StudyService) -> bool:
    """Whether the answer's own text states the gold fact (see the module docstring for the proxy)."""
    from rapidfuzz import fuzz

    if item.quote:
        return fuzz.partial_ratio(item.quote.lower(), answer_text.lower()) >= 85
    said = set(content_tokens(answer_text))
    asked = set(content_tokens(item.q))
    for chunk in service.chunks.values():
        if not is_relevant(chunk, item):
            continue
        for unit in split_units(chunk):
            # long code is quoted by its lines about the question (assistant.units.focus_code): judge those
            text = focus_code(unit.full_text, content_tokens(item.q)) if unit.kind == "code" else unit.full_text
            words = set(content_tokens(text))
            if len(words) >= 2 and words & (asked | set(content_tokens(" ".join(chunk.heading_path)))) \
                    and len(words & said) >= 0.6 * len(words):
                return True
    return False


def ask_timed(service: StudyService, question: str, params: AnswerParams):  # noqa: ANN201
    started = time.perf_counter()
    first = None
    answer = None
    for event in service.assistant.events(question, params):
        if event.kind == "sentence" and first is None:
            first = time.perf_counter() - started
        elif event.kind == "answer":
            answer = event.answer
    total = time.perf_counter() - started
    return answer, (first if first is not None else total), total


def evaluate_set(name: str, service: StudyService, split: str, params: AnswerParams, limit: int | None,
                 verbose: bool) -> dict:
    _, qa_path = SETS[name]
    dev = load_qa(qa_path, None if split == "all" else split)[:limit]
    ood = load_ood(split)[:limit]
    rows = []
    for item in dev:
        answer, first, total = ask_timed(service, item.q, params)
        answered = answer.mode not in ("not_found", "named_only")
        cites = any(is_relevant(service.chunks[c.chunk_id], item) for c in answer.citations
                    if c.chunk_id in service.chunks)
        rows.append({"q": item.q, "mode": answer.mode, "checked": answer.checked, "answered": answered,
                     "states": answered and states_fact(answer.answer, item, service), "cites": cites,
                     "first": first, "total": total, "answer": answer.answer})
        if verbose:
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    oos_modes = [service.assistant.ask(r["q"], params).mode for r in ood]
    # declined: "not in your notes", or "your notes name X but do not explain it" (the notes only list DBSCAN)
    oos = [mode in ("not_found", "named_only") for mode in oos_modes]
    answered = [r for r in rows if r["answered"]]
    share = (lambda xs: round(sum(xs) / len(xs), 3) if xs else None)  # noqa: E731
    return {
        "set": name, "split": split, "questions": len(rows), "oos_questions": len(oos),
        "states_fact": share([r["states"] for r in rows]), "cites": share([r["cites"] for r in rows]),
        "answered": share([r["answered"] for r in rows]),
        "llm_share": share([r["mode"] == "llm" for r in answered]),
        "checked": share([r["checked"] for r in answered]),
        "oos_not_found": share(oos),
        "first_s": round(statistics.median(r["first"] for r in rows), 2) if rows else None,
        "total_s": round(statistics.median(r["total"] for r in rows), 2) if rows else None,
        "rows": rows,
        "oos_named_only": sum(mode == "named_only" for mode in oos_modes),
        "oos_answered": [r["q"] for r, mode in zip(ood, oos_modes, strict=True)
                         if mode not in ("not_found", "named_only")],
    }


def relevance_rows(service: StudyService, name: str, split: str, k: int) -> list[dict]:
    """The not-found signals of every dev and out-of-scope question of a set."""
    from retrieval.search import SearchParams

    _, qa_path = SETS[name]
    questions = [(i.q, True) for i in load_qa(qa_path, None if split == "all" else split)]
    questions += [(r["q"], False) for r in load_ood(split)]
    rows = []
    for q, in_scope in questions:
        hits = tuple(service.searcher.search(q, SearchParams(k=k)))
        rel = service.assistant.relevance(q, hits)
        rows.append({"set": name, "q": q, "in_scope": in_scope, "concepts": len(rel.concepts), "dense": rel.dense,
                     "coverage": rel.coverage, "domain": rel.domain, "relevant": rel.relevant})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    parser.add_argument("--split", default="test", choices=("tune", "test", "all"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sg"))
    parser.add_argument("--model", help="LLM to use (default: settings).")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--no-llm", action="store_true")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--calibrate", action="store_true", help="Only the relevance signals.")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    params = AnswerParams(k=args.k, use_llm=not args.no_llm)
    for name in args.sets:
        service = open_service(name, args.cache, args.model)
        if args.calibrate:
            for row in relevance_rows(service, name, args.split, args.k):
                print(json.dumps(row, ensure_ascii=False), flush=True)
            continue
        result = evaluate_set(name, service, args.split, params, args.limit, args.verbose)
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            summary = {k: v for k, v in result.items() if k != "rows"}
            print(" ".join(f"{k}={v}" for k, v in summary.items()), flush=True)


if __name__ == "__main__":
    main()

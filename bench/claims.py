"""The claim verifier (assistant/claims.py) on its labelled sentences, per half: supported accepted, corrupted rejected.

Usage:
    python bench/claims.py                     # tests/data/claims-labelled.jsonl, halves tune, test, fresh
    python bench/claims.py --file X.jsonl      # another labelled file of the same shape
    python bench/claims.py --misses            # also list the sentences judged wrongly, with the verifier's reasons

A row is {language, unit, sentence, supported, kind, half[, question, source]}; a row with a question is checked
as an answer to it (a sentence must add something to the question). The `fresh` half was written after the
verifier was tuned on `tune` (and read on `test`), from units of the vendored corpora none of the other rows use,
and measured before any change made for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.claims import check_claim  # noqa: E402

LABELLED = REPO / "tests" / "data" / "claims-labelled.jsonl"


def judged(rows: list[dict]) -> list[tuple[dict, bool, tuple[str, ...]]]:
    """Each row with whether the verifier accepted its sentence, and why not."""
    out = []
    for r in rows:
        result = check_claim(r["sentence"], r["unit"], r["language"], given=r.get("question", ""))
        out.append((r, result.ok, result.reasons))
    return out


def accuracy(rows: list[dict], misses: bool = False) -> dict:
    """Per half: sentences, share of supported ones accepted, share of corrupted ones rejected (and per kind)."""
    report: dict = {}
    for half in dict.fromkeys(r["half"] for r in rows):
        results = judged([r for r in rows if r["half"] == half])
        supported = [ok for r, ok, _ in results if r["supported"]]
        corrupted = [not ok for r, ok, _ in results if not r["supported"]]
        kinds = Counter(r["kind"] for r, _, _ in results if not r["supported"])
        caught = Counter(r["kind"] for r, ok, _ in results if not r["supported"] and not ok)
        report[half] = {
            "sentences": len(results),
            "accepts_supported": f"{sum(supported)}/{len(supported)} = {sum(supported) / max(len(supported), 1):.3f}",
            "rejects_corrupted": f"{sum(corrupted)}/{len(corrupted)} = {sum(corrupted) / max(len(corrupted), 1):.3f}",
            "rejected_by_kind": {k: f"{caught[k]}/{n}" for k, n in sorted(kinds.items())},
        }
        if misses:
            report[half]["missed"] = [{"sentence": r["sentence"], "supported": r["supported"], "reasons": reasons}
                                      for r, ok, reasons in results if ok != r["supported"]]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=LABELLED)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(json.dumps(accuracy(rows, args.misses), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

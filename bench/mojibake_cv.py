"""Cross-validation of lossy mojibake restoration on re-damaged corpus notes, plus the held-out seed.

Usage: python bench/mojibake_cv.py [--folds 5] [--seed-only] [CONFIG ...]

Each CONFIG is a JSON object of overrides, e.g. '{"tag": 0.0}' or '{"prior_weight": 2.0}': keys of
`Weights` (word, char), of `DocumentSettings` (prune_gap, prior_weight, prior_strength,
iterations, agreement_weight, agreement_window), `bigram_weight` and `min_bigram` (pruning). Without a CONFIG the defaults run.

The paddle notes (Apache-2.0) are damaged as the seed was (UTF-8 read as cp1254, undefined bytes and soft
hyphens dropped); for each of 5 folds the models are counted on the other notes only, and the fold's notes
are restored. The seed is restored with models counted on all notes (it is never trained on). Prints the
differing characters: the weights shipped in ingest/ were chosen by the CV number, not the seed's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.decode.char_lm import build_counts  # noqa: E402
from ingest.decode.lattice import Weights  # noqa: E402
from ingest.decode.mojibake import _parse  # noqa: E402
from ingest.decode.restore import BIGRAM_WEIGHT, DocumentSettings, build_decoder, restore_lines  # noqa: E402

PADDLE = REPO / "tests" / "data" / "corpora" / "paddle-dl-zh"
SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"  # the clean seed, as the app ships it


def damage(text: str) -> str:
    """UTF-8 read as cp1254, undefined bytes and soft hyphens dropped (how the seed was damaged)."""
    return text.encode("utf-8").decode("cp1254", errors="ignore").replace("\u00ad", "")


def restore(raw: str, decoder, settings: DocumentSettings) -> str:
    lines: list[list[tuple[str, ...]]] = [[]]
    for slot in _parse(raw, "cp1254").slots:
        if slot == ("\n",):
            lines.append([])
        else:
            lines[-1].append(slot)
    return "\n".join(restore_lines(lines, decoder, settings))


def differing(restored: str, clean: str) -> int:
    assert len(restored) == len(clean), "restoration changed the length"
    return sum(a != b for a, b in zip(restored, clean, strict=True))


class Bench:
    """The corpus, its folds and jieba's tables, loaded once."""

    def __init__(self, folds: int):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.dt.check_initialized()
        self.freq, self.total = jieba.dt.FREQ, jieba.dt.total
        files = sorted(PADDLE.glob("*.md"))
        self.texts = {f.name: f.read_text(encoding="utf-8").replace("\r\n", "\n") for f in files}
        names = sorted(self.texts)
        order = list(range(len(names)))
        random.Random(0).shuffle(order)
        self.folds = [[names[i] for i in order[k::folds]] for k in range(folds)]
        self.counts: dict[tuple[str, ...], dict] = {}

    def decoder(self, train: list[str], config: dict):
        key = tuple(sorted(train))
        if key not in self.counts:
            self.counts[key] = build_counts([self.texts[n] for n in train], self.freq)
        fields = {f.name for f in dataclasses.fields(Weights)}
        weights = Weights(**{k: v for k, v in config.items() if k in fields})
        bigram_weight = config.get("bigram_weight", BIGRAM_WEIGHT)
        counts = dict(self.counts[key])
        floor = config.get("min_bigram", 0)
        counts["dictionary_bigrams"] = {k: v for k, v in counts["dictionary_bigrams"].items() if v >= floor}
        return build_decoder(counts, self.freq, self.total, weights, bigram_weight)

    def run(self, config: dict, seed_only: bool) -> dict:
        fields = {f.name for f in dataclasses.fields(DocumentSettings)}
        settings = DocumentSettings(**{k: v for k, v in config.items() if k in fields})
        seed = SEED.read_text(encoding="utf-8")
        decoder = self.decoder(sorted(self.texts), config)
        start = time.process_time()
        result = {"seed": differing(restore(damage(seed), decoder, settings), seed)}
        result["seed_cpu_s"] = round(time.process_time() - start, 2)
        if not seed_only:
            errors = 0
            for fold in self.folds:
                decoder = self.decoder([n for n in self.texts if n not in fold], config)
                errors += sum(
                    differing(restore(damage(self.texts[n]), decoder, settings), self.texts[n]) for n in fold
                )
            result["cv"] = errors
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=["{}"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    bench = Bench(args.folds)
    damaged = sum(len(damage(t)) != len(t) for t in bench.texts.values())
    print(f"{len(bench.texts)} notes ({damaged} damaged), {args.folds} folds", flush=True)
    for config in args.configs:
        print(config, json.dumps(bench.run(json.loads(config), args.seed_only)), flush=True)


if __name__ == "__main__":
    main()

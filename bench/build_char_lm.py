"""Build ingest/decode/data/zh_char_lm.json.gz, the count tables of the lossy mojibake repair's character model.

Usage: python bench/build_char_lm.py [--corpus DIR] [--out FILE] [--check]

Counts, reproducibly (sorted JSON, gzip without a timestamp):
  - char_trigrams: character trigrams (ASCII letter/digit/space runs as one token) of every line of the
    paddle-dl-zh notes (PaddlePaddle/awesome-DeepLearning, Apache-2.0, see tests/data/corpora/paddle-dl-zh/SOURCE.txt);
  - dictionary_bigrams: character bigrams inside jieba's dictionary words, weighted by the words' counts
    (jieba 0.42.1, MIT), all of them (--min-bigram N prunes smaller weights: worse in cross-validation).
With --check, only compares a fresh build with the shipped file and exits 1 when they differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.decode.char_lm import DATA_FILE, build_counts, save_counts  # noqa: E402

PADDLE = REPO / "tests" / "data" / "corpora" / "paddle-dl-zh"
OUT = REPO / "ingest" / "decode" / "data" / DATA_FILE
SOURCE = (
    "char_trigrams: tests/data/corpora/paddle-dl-zh (PaddlePaddle/awesome-DeepLearning @772e97d, "
    "Apache-2.0); dictionary_bigrams: jieba 0.42.1 dict.txt (MIT); built by bench/build_char_lm.py"
)
MIN_BIGRAM = 1


def build(corpus: Path, min_bigram: int) -> dict[str, dict[str, float]]:
    """The count tables from the corpus notes (*.md, sorted) and jieba's dictionary."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    texts = [p.read_text(encoding="utf-8").replace("\r\n", "\n") for p in sorted(corpus.glob("*.md"))]
    if not texts:
        raise SystemExit(f"no notes in {corpus}")
    counts = build_counts(texts, jieba.dt.FREQ)
    tables: dict[str, dict[str, float]] = {name: dict(table) for name, table in counts.items()}
    tables["dictionary_bigrams"] = {k: v for k, v in tables["dictionary_bigrams"].items() if v >= min_bigram}
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PADDLE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--min-bigram", type=int, default=MIN_BIGRAM)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    tables = build(args.corpus, args.min_bigram)
    if args.check:
        shipped = json.loads(gzip.decompress(args.out.read_bytes()))
        same = all(shipped.get(name) == table for name, table in tables.items())
        print("shipped file matches a fresh build" if same else "shipped file differs from a fresh build")
        raise SystemExit(0 if same else 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_counts(args.out, tables, SOURCE)
    sizes = ", ".join(f"{name} {len(table)}" for name, table in tables.items())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB): {sizes}")


if __name__ == "__main__":
    main()

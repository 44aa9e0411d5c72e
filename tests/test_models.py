"""The real offline models: the bundled embedder and the bundled GGUF, plus their clear failure messages."""

from __future__ import annotations

import re

import numpy as np
import pytest

from assistant.llama_cpp_backend import resolve_gguf
from assistant.llm import GenerationParams
from retrieval.embedders import load_token_counter, resolve_model_path
from studygraph.errors import ModelError
from studygraph.settings import EmbedderSettings


@pytest.mark.slow
def test_bundled_minilm_encodes_chinese_and_english_to_normalized_384d() -> None:
    from retrieval.embedders import build_embedder

    bundled_embedder = build_embedder(EmbedderSettings(model="bundled:all-MiniLM-L6-v2"))
    texts = ["注意力机制是Transformer的核心", "Attention is the core of the Transformer", "红烧肉的做法"]
    vectors = bundled_embedder.encode_documents(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert bundled_embedder.dim == 384
    q = bundled_embedder.encode_queries(["what is the attention mechanism in transformers"])[0]
    assert q @ vectors[1] > q @ vectors[2]


def test_bundled_embedder_resolves_to_local_folder() -> None:
    from pathlib import Path

    path = Path(resolve_model_path("bundled:all-MiniLM-L6-v2"))
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()
    assert resolve_model_path("BAAI/bge-m3") == "BAAI/bge-m3"
    with pytest.raises(ModelError, match="Unknown bundled embedder"):
        resolve_model_path("bundled:nope")


def test_token_counter_counts_like_the_embedder() -> None:
    count = load_token_counter(EmbedderSettings(model="bundled:all-MiniLM-L6-v2"))
    assert count("hello world") == 4  # [CLS] hello world [SEP]
    assert count("注意力机制") >= 5


def test_gguf_resolution_errors_are_clear(tmp_path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_gguf(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match="hub:OWNER/REPO/FILE.gguf"):
        resolve_gguf("hub:nofile")
    assert resolve_gguf("hub:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf") == (
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "qwen2.5-0.5b-instruct-q4_k_m.gguf",
    )


@pytest.mark.llm
def test_bundled_gguf_loads_and_generates_tokens(bundled_llm) -> None:
    assert bundled_llm.n_ctx == 2048
    assert bundled_llm.count_tokens("The Transformer architecture") > 2
    greedy = GenerationParams(max_tokens=8, temperature=0)
    text = "".join(bundled_llm.complete("The capital of France is", greedy))
    assert "Paris" in text, text  # the model knows things: weights loaded whole, not just some tokens out


@pytest.mark.llm
def test_bundled_gguf_answers_in_chat_turns_through_its_own_template(bundled_llm) -> None:
    """The bundled GGUF ships its chat template; chat_format "auto" finds it and the model answers a chat turn."""
    assert "{%" in bundled_llm.llama.metadata["tokenizer.chat_template"]  # a Jinja template, read from the file
    assert bundled_llm.has_chat_template is True
    question = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    reply = "".join(bundled_llm.chat(question, GenerationParams(max_tokens=8, temperature=0)))
    assert "Paris" in reply, reply
    assert not re.search(r"<\|im_(start|end)\|>|<(start|end)_of_turn>", reply), reply  # turns end, never leak


@pytest.mark.parametrize(("cpus", "busy", "decode", "prompt"), [
    (2, 0.1, 1, 2),   # an idle 2-core machine reads the prompt on both cores, decodes on one
    (2, 1.2, 1, 1),   # another process holds a core: one thread each, no stalls
    (2, 3.5, 1, 1),
    (8, 2.0, 4, 6),
    (1, 0.0, 1, 1),
    (2, None, 1, 1),  # cannot tell: as many as decode
])
def test_llama_threads_decode_on_half_the_cores_and_read_the_prompt_on_the_idle_ones(monkeypatch, cpus, busy,
                                                                                     decode, prompt):
    import os

    from assistant import llama_cpp_backend as backend

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(backend, "busy_elsewhere", lambda: busy)
    assert backend.default_threads() == decode
    assert backend.prompt_threads(decode) == prompt


def test_busy_elsewhere_sees_a_core_kept_busy_while_it_samples():
    import threading
    import time

    from assistant.llama_cpp_backend import busy_elsewhere

    stop = time.perf_counter() + 0.6
    spinner = threading.Thread(target=lambda: [None for _ in iter(lambda: time.perf_counter() > stop, True)])
    spinner.start()  # another thread keeps one core busy while the calling thread sleeps and samples
    try:
        measured = busy_elsewhere(0.3)
    finally:
        spinner.join()
    assert measured is not None and 0.5 <= measured <= (__import__("os").cpu_count() or 1), measured

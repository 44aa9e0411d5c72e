"""The `LLM` interface used by the assistant, its per-call parameters, and backend selection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from studygraph.errors import ModelError

if TYPE_CHECKING:
    from studygraph.settings import LLMSettings


@dataclass(frozen=True)
class GenerationParams:
    """Per-call generation parameters (build-time model settings live in `LLMSettings`)."""

    max_tokens: int = 256
    temperature: float = 0.1
    top_p: float = 0.95
    repeat_penalty: float = 1.15
    stop: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class LLM(Protocol):
    """A text generator. `complete` takes a raw prompt; `chat` takes role/content messages."""

    name: str

    @property
    def n_ctx(self) -> int: ...

    @property
    def has_chat_template(self) -> bool: ...

    def count_tokens(self, text: str) -> int: ...

    def complete(self, prompt: str, params: GenerationParams) -> Iterator[str]: ...

    def chat(self, messages: Sequence[dict[str, str]], params: GenerationParams) -> Iterator[str]: ...


def build_llm(settings: LLMSettings) -> LLM:
    """The configured backend, loaded (raises ModelError with the next step when it cannot be)."""
    if settings.backend == "llama_cpp":
        from assistant.llama_cpp_backend import LlamaCppLLM

        return LlamaCppLLM(settings)
    if settings.backend == "openai":
        from assistant.openai_backend import OpenAICompatibleLLM

        return OpenAICompatibleLLM(settings)
    raise ModelError(f"Unknown LLM backend '{settings.backend}'.")

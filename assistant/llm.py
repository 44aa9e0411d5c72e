"""The `LLM` interface the assistant uses and backends implement, and its per-call parameters.

Backend selection is `assistant.llm_factory.build_llm`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


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

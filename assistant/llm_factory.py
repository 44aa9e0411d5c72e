"""Backend selection: the configured `LLM`, loaded. Backends import only the interface in `assistant.llm`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studygraph.errors import ModelError

if TYPE_CHECKING:
    from assistant.llm import LLM
    from studygraph.settings import LLMSettings


def build_llm(settings: LLMSettings) -> LLM:
    """The configured backend, loaded (raises ModelError with the next step when it cannot be)."""
    if settings.backend == "llama_cpp":
        from assistant.llama_cpp_backend import LlamaCppLLM

        return LlamaCppLLM(settings)
    if settings.backend == "openai":
        from assistant.openai_backend import OpenAICompatibleLLM

        return OpenAICompatibleLLM(settings)
    raise ModelError(f"Unknown LLM backend '{settings.backend}'.")

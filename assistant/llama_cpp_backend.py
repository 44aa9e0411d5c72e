"""In-process GGUF models through llama-cpp-python: a bundled instruct model, a local .gguf, or a hub file."""

from __future__ import annotations

import ctypes
import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.bundled_models import BUNDLED_MODELS, assemble
from assistant.llm import GenerationParams
from studygraph.errors import ModelError, import_optional

if TYPE_CHECKING:
    from studygraph.settings import LLMSettings

log = logging.getLogger(__name__)

HUB_PREFIX = "hub:"
_INSTALL_HINT = (
    "llama-cpp-python is not installed: run `make install` (it builds llama.cpp with "
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON").'
)


def resolve_gguf(model: str) -> tuple[str, str | None]:
    """Return (local path, None) or (repo id, filename) for a hub model.

    Raises:
        ModelError: unknown bundled name, missing bundled package, or a path that is not a file.
    """
    if model in BUNDLED_MODELS:
        return str(assemble(BUNDLED_MODELS[model])), None
    if model.startswith("bundled:"):
        raise ModelError(f"Unknown bundled model '{model}'; the bundled ones are {', '.join(BUNDLED_MODELS)}.")
    if model.startswith(HUB_PREFIX):
        spec = model[len(HUB_PREFIX):]
        repo, _, filename = spec.rpartition("/")
        if not repo or "/" not in repo or not filename.endswith(".gguf"):
            raise ModelError(f"'{model}' is not of the form hub:OWNER/REPO/FILE.gguf.")
        return repo, filename
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelError(f"GGUF model file {path} does not exist; set llm.model to a .gguf path.")
    return str(path), None


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads() -> int:
    """Half the CPUs this process may use, at least one (about the physical cores): the threads that decode.

    llama.cpp's decoding slows down several times over when its threads compete with each other or with other work
    for the same cores (on a busy 2-core machine: 1 thread 7 tok/s, 2 threads 1-2 tok/s for the bundled model).
    """
    return max(1, _available_cpus() // 2)


def prompt_threads(decode: int) -> int:
    """Threads that read the prompt: every CPU the rest of the machine leaves idle, never fewer than the decoding
    threads. Reading a prompt is one large matrix product per layer, which splits well across cores; it is most
    of the wait for the first sentence (a 600-token prompt with the 1.5B model on an idle 2-core machine: 30 s on
    one thread, 16 s on two), and only when other work holds the cores do extra threads stall each other."""
    available = _available_cpus()
    busy = busy_elsewhere()
    if busy is None:
        return decode
    return max(decode, min(available, int(available - busy + 0.5)))


def busy_elsewhere(sample_s: float = 0.1) -> float | None:
    """Cores the rest of the machine keeps busy now: the system's CPU time (/proc/stat) over a short sleep of the
    calling thread, so the work that thread just did (loading, searching) is not counted, unlike in the load
    average, which is the fallback where /proc is missing."""
    def ticks() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)  # all, idle + iowait

    try:
        total0, idle0 = ticks()
        time.sleep(sample_s)
        total1, idle1 = ticks()
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return None
    spent = total1 - total0
    return (os.cpu_count() or 1) * (spent - (idle1 - idle0)) / spent if spent > 0 else 0.0


_SILENT_LOG: Any = None


def silence_llama_log(llama_cpp: Any) -> None:
    """Keep llama.cpp's own C-level log lines (model loading, context set-up) off the user's terminal."""
    global _SILENT_LOG
    if _SILENT_LOG is not None or not hasattr(llama_cpp, "llama_log_set"):
        return

    def ignore(_level: int, _text: bytes, _user_data: Any) -> None:
        return None

    _SILENT_LOG = llama_cpp.llama_log_callback(ignore)  # kept referenced: llama.cpp calls it for ever
    llama_cpp.llama_log_set(_SILENT_LOG, ctypes.c_void_p(0))


class LlamaCppLLM:
    """A GGUF model run in process by llama.cpp."""

    def __init__(self, settings: LLMSettings):
        llama_cpp = import_optional("llama_cpp", _INSTALL_HINT)
        silence_llama_log(llama_cpp)
        Llama = llama_cpp.Llama
        self.settings = settings
        self.name = settings.model
        location, filename = resolve_gguf(settings.model)
        threads = settings.n_threads or default_threads()
        kwargs: dict[str, Any] = {
            "n_ctx": settings.n_ctx,
            "n_threads": threads,
            "n_threads_batch": settings.n_threads or prompt_threads(threads),
            "verbose": False,
        }
        try:
            if filename is not None:
                self._llama = Llama.from_pretrained(repo_id=location, filename=filename, **kwargs)
            else:
                self._llama = Llama(model_path=location, **kwargs)
        except Exception as exc:
            raise ModelError(f"Cannot load GGUF '{settings.model}': {exc}.") from None
        template = self._llama.metadata.get("tokenizer.chat_template")
        if settings.chat_format == "chat":
            self._chat = True
        elif settings.chat_format == "completion":
            self._chat = False
        else:
            self._chat = bool(template)

    @property
    def llama(self):  # noqa: ANN201 - llama_cpp.Llama, for benchmarks that compare against it
        return self._llama

    @property
    def n_ctx(self) -> int:
        return int(self._llama.n_ctx())

    @property
    def has_chat_template(self) -> bool:
        return self._chat

    def tokenize(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def complete(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        stream = self._llama.create_completion(
            prompt,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            stop=list(params.stop) or None,
            stream=True,
        )
        for part in stream:
            text = part["choices"][0].get("text") or ""
            if text:
                yield text

    def chat(self, messages: Sequence[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        stream = self._llama.create_chat_completion(
            messages=list(messages),
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            stop=list(params.stop) or None,
            stream=True,
        )
        for part in stream:
            delta = part["choices"][0].get("delta") or {}
            text = delta.get("content") or ""
            if text:
                yield text

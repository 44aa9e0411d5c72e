"""An OpenAI-compatible HTTP server (llama-server, Ollama, vLLM...) as an `LLM`, streamed over SSE with the stdlib."""

from __future__ import annotations

import http.client
import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from assistant.llm import GenerationParams
from studygraph.errors import ModelError
from studygraph.text import cjk_count

if TYPE_CHECKING:
    from studygraph.settings import LLMSettings

log = logging.getLogger(__name__)

MAX_SERVER_STOPS = 4  # OpenAI's own API refuses more; the rest are applied here


class StopFilter:
    """Cuts a stream at the first stop sequence, holding back text that may be the start of one."""

    def __init__(self, stops: Sequence[str]):
        self.stops = [s for s in stops if s]
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        """The text that is safe to emit after `piece` arrives ('' once a stop sequence was seen)."""
        if self.stopped:
            return ""
        self.buffer += piece
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self.buffer = self.buffer[:cut], ""
            return out
        hold = max((k for s in self.stops for k in range(1, len(s)) if self.buffer.endswith(s[:k])), default=0)
        out = self.buffer[: len(self.buffer) - hold]
        self.buffer = self.buffer[len(out):]
        return out

    def flush(self) -> str:
        out, self.buffer = ("" if self.stopped else self.buffer), ""
        return out


def estimate_tokens(text: str) -> int:
    """A generous token estimate when the server has no tokenizer endpoint: CJK characters count one each."""
    cjk = cjk_count(text)
    return cjk + math.ceil((len(text) - cjk) / 3.0)


class OpenAICompatibleLLM:
    """A model served over the OpenAI HTTP API (`/v1/chat/completions`, `/v1/completions`)."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self.name = settings.model
        self.base_url = settings.base_url.rstrip("/")
        self._tokenize_url: str | None = self.base_url.removesuffix("/v1") + "/tokenize"
        self._chat = settings.chat_format != "completion"
        self._token_counts: dict[str, int] = {}

    @property
    def n_ctx(self) -> int:
        return self.settings.n_ctx

    @property
    def has_chat_template(self) -> bool:
        return self._chat

    def count_tokens(self, text: str) -> int:
        """Tokens by the server's `/tokenize` (llama-server) when it has one, else an estimate."""
        if self._tokenize_url is None:
            return estimate_tokens(text)
        if text not in self._token_counts:
            try:
                reply = self._post_json(self._tokenize_url, {"content": text})
                count = len(reply["tokens"])
            except (ModelError, KeyError, TypeError):
                log.info("server has no /tokenize; estimating token counts")
                self._tokenize_url = None
                return estimate_tokens(text)
            if len(self._token_counts) >= 4096:  # prompts are fitted with many counts of the same texts
                self._token_counts.clear()
            self._token_counts[text] = count
        return self._token_counts[text]

    def complete(self, prompt: str, params: GenerationParams) -> Iterator[str]:
        body = {"prompt": prompt, **self._common(params)}
        yield from self._stream("/completions", body, lambda choice: choice.get("text"), params.stop)

    def chat(self, messages: Sequence[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        body = {"messages": list(messages), **self._common(params)}
        yield from self._stream("/chat/completions", body,
                                lambda choice: (choice.get("delta") or {}).get("content"), params.stop)

    # ------------------------------------------------------------------ HTTP

    def _common(self, params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.name, "max_tokens": params.max_tokens, "temperature": params.temperature,
            "top_p": params.top_p, "repeat_penalty": params.repeat_penalty, "stream": True,
        }
        if params.stop:
            body["stop"] = list(params.stop[:MAX_SERVER_STOPS])
        return body

    def _request(self, url: str, body: dict[str, Any]) -> urllib.request.Request:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream, application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")

    def _open(self, url: str, body: dict[str, Any]):  # noqa: ANN202 - an http.client.HTTPResponse
        try:
            return urllib.request.urlopen(self._request(url, body), timeout=self.settings.timeout_s)
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise ModelError(f"The LLM server at {url} answered HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(
                f"Cannot reach the LLM server at {self.base_url} ({reason}): start it (for example "
                "`llama-server -m model.gguf --port 8080`) or set llm.base_url."
            ) from None

    def _post_json(self, url: str, body: dict[str, Any]) -> Any:
        with self._open(url, body) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def _stream(self, path: str, body: dict[str, Any], text_of, stops: Sequence[str]) -> Iterator[str]:  # noqa: ANN001
        stop_filter = StopFilter(stops)
        with self._open(self.base_url + path, body) as resp:
            try:
                for event in _sse_events(resp):
                    if event.get("error"):
                        raise ModelError(f"The LLM server reported an error: {event['error']}.")
                    for choice in event.get("choices") or ():
                        out = stop_filter.feed(text_of(choice) or "")
                        if out:
                            yield out
                    if stop_filter.stopped:
                        return
            except (OSError, http.client.HTTPException) as exc:
                raise ModelError(f"The LLM server at {self.base_url} broke off the answer: {exc}.") from None
        tail = stop_filter.flush()
        if tail:
            yield tail


def _sse_events(resp) -> Iterator[dict[str, Any]]:  # noqa: ANN001 - a file-like HTTP response
    """JSON payloads of a server-sent-event stream, until `[DONE]`; a plain JSON reply is one event."""
    data_lines: list[str] = []
    for raw in resp:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data:"):
            data_lines.append(line[5:].strip())
            continue
        if line.startswith("{"):  # a server that ignored stream=true
            yield json.loads(line + resp.read().decode("utf-8"))
            return
        if line == "" and data_lines:
            payload = "\n".join(data_lines)
            data_lines = []
            if payload == "[DONE]":
                return
            try:
                yield json.loads(payload)
            except json.JSONDecodeError:
                raise ModelError(f"The LLM server sent a malformed event: {payload[:200]!r}.") from None
    if data_lines and data_lines[0] != "[DONE]":
        yield json.loads("\n".join(data_lines))

"""The OpenAI-compatible backend against a small fake server on 127.0.0.1 (SSE streaming, stops, errors)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.llm import LLM, GenerationParams
from assistant.llm_factory import build_llm
from assistant.openai_backend import StopFilter, estimate_tokens
from studygraph.errors import ModelError
from studygraph.settings import LLMSettings


class FakeOpenAIServer:
    """Streams a scripted reply as OpenAI SSE chunks; records requests; optional /tokenize like llama-server."""

    def __init__(self, reply: str = "LoRA 冻结权重 [1]。", tokenize: bool = True, status: int = 200):
        self.reply, self.tokenize, self.status = reply, tokenize, status
        self.requests: list[tuple[str, dict, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ANN002 - keep test output quiet
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body, dict(self.headers)))
                if self.path == "/tokenize" and server.tokenize:
                    return self._json({"tokens": list(range(len(body["content"].split())))})
                if server.status != 200 or self.path not in ("/v1/chat/completions", "/v1/completions"):
                    self.send_response(server.status if server.status != 200 else 404)
                    self.end_headers()
                    self.wfile.write(b'{"error": "nope"}')
                    return None
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chat = self.path.endswith("chat/completions")
                for i in range(0, len(server.reply), 3):
                    piece = server.reply[i : i + 3]
                    choice = {"delta": {"content": piece}} if chat else {"text": piece}
                    self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                return None

            def _json(self, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def backend(url: str, **kw: object) -> LLM:
    return build_llm(LLMSettings(backend="openai", base_url=url, model="qwen2.5-1.5b-instruct", api_key="k", **kw))


def test_chat_streams_sse_pieces_and_sends_the_parameters():
    with FakeOpenAIServer(reply="LoRA 冻结权重 [1]。") as server:
        llm = backend(server.url)
        params = GenerationParams(max_tokens=33, temperature=0.0, repeat_penalty=1.3, stop=("</source>",))
        pieces = list(llm.chat([{"role": "user", "content": "hi"}], params))
    assert len(pieces) > 1 and "".join(pieces) == "LoRA 冻结权重 [1]。"
    path, body, headers = server.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["stream"] is True and body["max_tokens"] == 33 and body["temperature"] == 0.0
    assert body["repeat_penalty"] == 1.3 and body["stop"] == ["</source>"]
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["model"] == "qwen2.5-1.5b-instruct"
    assert headers["Authorization"] == "Bearer k"
    assert isinstance(llm, LLM) and llm.has_chat_template and llm.n_ctx == 4096


def test_completion_applies_every_stop_sequence_even_beyond_the_servers_limit():
    stops = ("\n问题：", "\nQuestion:", "<source", "</source>", "\n\n")
    with FakeOpenAIServer(reply="[1] 冻结权重。\n\n问题：下一个问题") as server:
        llm = backend(server.url, chat_format="completion")
        text = "".join(llm.complete("prompt", GenerationParams(stop=stops)))
    assert text == "[1] 冻结权重。"
    _, body, _ = server.requests[-1]
    assert body["prompt"] == "prompt" and len(body["stop"]) == 4
    assert not llm.has_chat_template


def test_token_counts_use_the_servers_tokenizer_and_fall_back_to_an_estimate():
    with FakeOpenAIServer() as server:
        assert backend(server.url).count_tokens("one two three") == 3
    with FakeOpenAIServer(tokenize=False) as server:
        llm = backend(server.url)
        assert llm.count_tokens("注意力机制 attention") == estimate_tokens("注意力机制 attention")
        assert llm.count_tokens("x") == estimate_tokens("x")
        assert sum(1 for p, _, _ in server.requests if p == "/tokenize") == 1  # asked once, then estimated


def test_an_unreachable_server_is_a_model_error_that_says_what_to_do():
    with FakeOpenAIServer() as server:
        url = server.url
    with pytest.raises(ModelError, match="llm.base_url"):
        list(backend(url).chat([{"role": "user", "content": "hi"}], GenerationParams()))


def test_an_http_error_is_a_model_error_with_the_status():
    with FakeOpenAIServer(status=500) as server, pytest.raises(ModelError, match="HTTP 500"):
        list(backend(server.url).chat([{"role": "user", "content": "hi"}], GenerationParams()))


def test_stop_filter_holds_back_a_possible_stop_prefix():
    stop = StopFilter(["\n问题："])
    out = [stop.feed(p) for p in ["答案", "\n", "问", "题：还有"]]
    assert out == ["答案", "", "", ""] and stop.stopped
    stop = StopFilter(["\n问题："])
    assert stop.feed("答案\n") == "答案" and stop.feed("下一行") == "\n下一行" and stop.flush() == ""


def test_the_assistant_answers_through_the_http_backend(tmp_path, fake_embedder):
    from assistant.answer import AnswerParams, Assistant
    from assistant_fakes import FIXTURE_NOTES, FakeService, fixture_chunks

    chunks = [c for c in fixture_chunks(FIXTURE_NOTES) if c.heading_path[-1] == "3.4 LoRA"]
    with FakeOpenAIServer(reply="LoRA冻结预训练权重，只训练低秩矩阵 [1]。") as server:
        service = FakeService(tmp_path, chunks, fake_embedder, llm=backend(server.url))
        tokens: list[str] = []
        answer = Assistant(service).ask("LoRA是怎么微调大模型的？", AnswerParams(k=1), on_token=tokens.append)
        _, body, _ = server.requests[-1]
    assert answer.mode == "llm" and answer.citations[0].chunk_id == chunks[0].id
    assert "".join(tokens) == "LoRA冻结预训练权重，只训练低秩矩阵 [1]。"
    assert body["messages"][0]["role"] == "system" and "只训练低秩矩阵" in body["messages"][-1]["content"]

"""Generation speed through `Assistant.ask` next to raw llama-cpp-python on the very same prompt, in the same run.

Usage: python bench/llm.py [--workspace WS | --notes PATH ...] [--questions N] [--max-tokens 96] [--json]

For each question, the assistant answers it (retrieval, prompt, streaming generation, verification); the prompt it
built is then sent straight to `llama_cpp.Llama.create_completion` (or `create_chat_completion` for a chat model)
with the same sampling parameters (greedy, so both produce the same tokens). The order of the two alternates
between questions, and the model's KV cache is reset before every run so neither reuses the other's prompt.

Reported per question and in total:
- ttft_s: seconds from the call to the model's first token. Through `ask` this includes retrieval and prompt
  building; `model_ttft_s` counts from the moment the prompt was ready, which is what raw llama.cpp measures;
- decode tok/s: tokens after the first / seconds between the first and the last token;
- ratio: decode tok/s through `ask` / raw (target >= 0.9) and the TTFT ratio (model part only). On a busy machine
  these A/B ratios are noisy, so the share of the generation time spent outside the model's own token stream
  (retrieval excluded: from the prompt being ready to the last token) is reported too: 1 - that share is the
  speed of `ask` relative to the model itself, measured on the same tokens at the same moment;
- prompt tokens per answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.answer import AnswerParams  # noqa: E402
from assistant.llm import GenerationParams  # noqa: E402
from assistant.service import StudyService  # noqa: E402
from retrieval.evaluate import load_qa  # noqa: E402
from studygraph.settings import load_settings  # noqa: E402

SEED = REPO / "data" / "notes" / "ai-knowledge-system.md"
DEV = REPO / "tests" / "data" / "seed-dev-qa.jsonl"


class TimedLLM:
    """The real LLM, counting the seconds spent inside its token stream (what the model itself costs)."""

    def __init__(self, llm):  # noqa: ANN001
        self.inner = llm
        self.name = llm.name
        self.model_seconds = 0.0

    def __getattr__(self, name: str):  # noqa: ANN204 - n_ctx, has_chat_template, count_tokens, llama
        return getattr(self.inner, name)

    def _timed(self, stream):  # noqa: ANN001, ANN202
        while True:
            started = time.perf_counter()
            try:
                piece = next(stream)
            except StopIteration:
                self.model_seconds += time.perf_counter() - started
                return
            self.model_seconds += time.perf_counter() - started
            yield piece

    def complete(self, prompt, params):  # noqa: ANN001, ANN201
        return self._timed(self.inner.complete(prompt, params))

    def chat(self, messages, params):  # noqa: ANN001, ANN201
        return self._timed(self.inner.chat(messages, params))


def prompt_for(service: StudyService, question: str):  # noqa: ANN201 - the Prompt, or None when not answered by the model
    """The prompt `ask` would send, without generating (the event stream is closed right after it)."""
    events = service.assistant.events(question, AnswerParams(k=5, temperature=0.0))
    try:
        for event in events:
            if event.kind == "prompt":
                return event.prompt
    finally:
        events.close()
    return None


def through_ask(service: StudyService, question: str, max_tokens: int) -> dict:
    """Answer through the assistant, timing the model's tokens as the on_token stream sees them."""
    service.llm.llama.reset()
    started = time.perf_counter()
    prompt_ready = first = last = prompt = answer = None
    skip_prefill = False
    pieces: list[str] = []
    for event in service.assistant.events(question, AnswerParams(k=5, max_tokens=max_tokens, temperature=0.0)):
        now = time.perf_counter()
        if event.kind == "prompt":
            prompt, prompt_ready, skip_prefill = event.prompt, now, bool(event.prompt.prefill)
        elif event.kind == "token" and skip_prefill:  # the pre-filled marker: written by the prompt, not generated
            skip_prefill = False
        elif event.kind == "token":
            first = first or now
            last = now
            pieces.append(event.text)
        elif event.kind == "answer":
            answer = event.answer
    text = "".join(pieces)
    return {"prompt": prompt, "text": text, "mode": answer.mode, "started": started, "prompt_ready": prompt_ready,
            "first": first, "last": last}


def raw_llama(service: StudyService, prompt, max_tokens: int) -> dict:  # noqa: ANN001 - assistant.prompts.Prompt
    """The same prompt through llama-cpp-python directly, with the same sampling parameters."""
    llama = service.llm.llama
    s = service.settings.llm
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, repeat_penalty=s.repeat_penalty,
                              stop=prompt.stop)
    llama.reset()
    started = time.perf_counter()
    kwargs = {"max_tokens": params.max_tokens, "temperature": params.temperature, "top_p": params.top_p,
              "repeat_penalty": params.repeat_penalty, "stop": list(params.stop) or None, "stream": True}
    if prompt.kind == "chat":
        stream = llama.create_chat_completion(messages=list(prompt.messages), **kwargs)
        text_of = lambda part: (part["choices"][0].get("delta") or {}).get("content") or ""  # noqa: E731
    else:
        stream = llama.create_completion(prompt.text, **kwargs)
        text_of = lambda part: part["choices"][0].get("text") or ""  # noqa: E731
    first = last = None
    pieces = []
    for part in stream:
        piece = text_of(part)
        if piece:
            now = time.perf_counter()
            first = first or now
            last = now
            pieces.append(piece)
    return {"text": "".join(pieces), "started": started, "prompt_ready": started, "first": first, "last": last}


def rates(run: dict, count_tokens) -> dict:  # noqa: ANN001
    tokens = count_tokens(run["text"]) if run["text"] else 0
    decode = (tokens - 1) / (run["last"] - run["first"]) if run["first"] and run["last"] > run["first"] else 0.0
    return {"tokens": tokens, "ttft_s": (run["first"] or run["started"]) - run["started"],
            "model_ttft_s": (run["first"] or run["prompt_ready"]) - run["prompt_ready"], "decode_tps": decode}


def bench(service: StudyService, questions: list[str], max_tokens: int) -> dict:
    rows = []
    timed: TimedLLM = service.llm  # type: ignore[assignment]
    for i, question in enumerate(questions):
        prompt = prompt_for(service, question)
        if prompt is None:
            continue
        if i % 2:
            raw = raw_llama(service, prompt, max_tokens)
        timed.model_seconds = 0.0
        ask = through_ask(service, question, max_tokens)
        model_seconds = timed.model_seconds
        if not i % 2:
            raw = raw_llama(service, prompt, max_tokens)
        a, r = rates(ask, service.llm.count_tokens), rates(raw, service.llm.count_tokens)
        outside = (ask["last"] or 0) - (ask["prompt_ready"] or 0) - model_seconds
        a["overhead_share"] = max(0.0, outside) / max(1e-9, (ask["last"] or 0) - (ask["prompt_ready"] or 0))
        rows.append({"q": question, "mode": ask["mode"], "prompt_tokens": prompt.tokens, "ask": a, "raw": r,
                     "same_text": raw["text"].strip().startswith(ask["text"].strip())})
    ask_tps = [r["ask"]["decode_tps"] for r in rows if r["ask"]["tokens"] > 4 and r["raw"]["tokens"] > 4]
    raw_tps = [r["raw"]["decode_tps"] for r in rows if r["ask"]["tokens"] > 4 and r["raw"]["tokens"] > 4]
    return {
        "model": service.llm.name, "questions": len(rows), "rows": rows,
        "prompt_tokens_mean": statistics.mean(r["prompt_tokens"] for r in rows) if rows else 0,
        "decode_tps_ask": statistics.mean(ask_tps) if ask_tps else 0.0,
        "decode_tps_raw": statistics.mean(raw_tps) if raw_tps else 0.0,
        "decode_ratio": (statistics.mean(ask_tps) / statistics.mean(raw_tps)) if ask_tps and raw_tps else 0.0,
        "model_ttft_ratio": (statistics.mean(r["raw"]["model_ttft_s"] for r in rows)
                             / max(1e-9, statistics.mean(r["ask"]["model_ttft_s"] for r in rows))) if rows else 0.0,
        "ttft_ask_s": statistics.mean(r["ask"]["ttft_s"] for r in rows) if rows else 0.0,
        "ttft_raw_s": statistics.mean(r["raw"]["ttft_s"] for r in rows) if rows else 0.0,
        # Contention-proof: the share of the generation time spent outside the model's own token stream.
        "overhead_share": statistics.mean(r["ask"]["overhead_share"] for r in rows) if rows else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="An ingested workspace (default: ingest --notes).")
    parser.add_argument("--notes", type=Path, nargs="*", help="Notes to ingest (default: the seed note).")
    parser.add_argument("--qa", type=Path, default=DEV, help="Questions (JSONL with 'q').")
    parser.add_argument("--questions", type=int, default=6, help="How many questions (answered ones count).")
    parser.add_argument("--max-tokens", type=int, default=96, help="Tokens per answer at most.")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()
    questions = [item.q for item in load_qa(args.qa)]
    step = max(1, len(questions) // max(1, args.questions))
    questions = questions[::step][: args.questions]
    with tempfile.TemporaryDirectory(prefix="studygraph-llm-") as tmp:
        settings = load_settings(overrides={"workspace": args.workspace or Path(tmp) / "ws"})
        if not args.workspace:
            from ingest.pipeline import ingest_paths

            ingest_paths(args.notes or [SEED], settings)
        from assistant.llm_factory import build_llm

        service = StudyService(settings, llm=TimedLLM(build_llm(settings.llm)))
        service.llm.count_tokens("warm up")
        result = bench(service, questions, args.max_tokens)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"model {result['model']}, {result['questions']} questions, "
          f"prompt tokens per answer {result['prompt_tokens_mean']:.0f}")
    print(f"{'question':<36} {'mode':<10} {'ptok':>5} {'tok':>4} {'ask ttft':>8} {'raw ttft':>8} "
          f"{'ask tok/s':>9} {'raw tok/s':>9}")
    for r in result["rows"]:
        print(f"{r['q'][:36]:<36} {r['mode']:<10} {r['prompt_tokens']:>5} {r['ask']['tokens']:>4} "
              f"{r['ask']['model_ttft_s']:>8.2f} {r['raw']['model_ttft_s']:>8.2f} "
              f"{r['ask']['decode_tps']:>9.1f} {r['raw']['decode_tps']:>9.1f}")
    print(f"\ndecode tok/s: ask {result['decode_tps_ask']:.1f}, raw {result['decode_tps_raw']:.1f}, "
          f"ratio {result['decode_ratio']:.2f}x (target >= 0.9)")
    print(f"overhead: {100 * result['overhead_share']:.2f}% of the generation time through ask is spent outside the "
          f"model's token stream, i.e. ask decodes at {1 - result['overhead_share']:.3f}x the model's own speed")
    print(f"time to first token: ask {result['ttft_ask_s']:.2f}s end to end (retrieval included), raw "
          f"{result['ttft_raw_s']:.2f}s; model part ratio raw/ask {result['model_ttft_ratio']:.2f}x")


if __name__ == "__main__":
    main()

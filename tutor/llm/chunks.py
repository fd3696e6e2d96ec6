"""One parser for streamed chat-completion chunks (OpenAI format), used by every backend.

llama-cpp-python yields these chunks as dicts, an OpenAI-compatible server sends them as JSON
in server-sent events; both go through :func:`chunk_pieces`, which also refuses malformed
chunks with a clear error instead of an AttributeError or an empty answer.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from knowledge.common.errors import BackendError
from tutor.llm.base import GenerationStats


def malformed(what: str, sample: Any) -> BackendError:
    shown = repr(sample)
    return BackendError(f"the language model sent a malformed answer: {what} "
                        f"(got {shown[:120]}{'...' if len(shown) > 120 else ''})",
                        "check that the server speaks the OpenAI chat-completions API "
                        "(/v1/chat/completions with stream=true), and its log")


def server_error(error: Any, status: int | None = None) -> BackendError:
    """The error a server reported (``{"error": {...}}``, OpenAI style) as a clear message;
    a prompt larger than the context gets its sizes and what to change."""
    where = f"HTTP {status}: " if status else ""
    if not isinstance(error, dict):
        return BackendError(f"the language-model server reported an error ({where}"
                            f"{str(error)[:200]})", "check the server's log and its model")
    if error.get("type") == "exceed_context_size_error":
        need, limit = error.get("n_prompt_tokens"), error.get("n_ctx")
        sizes = f" ({need} tokens; each of the server's slots holds {limit})" \
            if need and limit else ""
        return BackendError(
            f"the question with its course context is larger than the language-model "
            f"server's context window{sizes}, so the server refused it",
            "ask a shorter question or lower Max concepts; or restart the server with a "
            "larger context per slot (`erica serve --slot-context 4096`)")
    if status == 503 or error.get("type") == "unavailable_error":
        return BackendError("the language-model server is still loading its model",
                            "wait a few seconds and ask again")
    message = str(error.get("message", error))[:300]
    return BackendError(f"the language-model server refused the request ({where}{message})",
                        "check the server's log and its model")


def chunk_pieces(chunk: Any, stats: GenerationStats) -> Generator[str, None, int]:
    """Yield the text pieces of one chunk and return how many choices it had; records usage,
    the engine's own timings (llama.cpp's server sends them) and a ``length`` stop in
    ``stats``. An error event raises with the server's message."""
    if not isinstance(chunk, dict):
        raise malformed("a chunk is not a JSON object", chunk)
    if chunk.get("error") is not None:
        raise server_error(chunk["error"])
    usage = chunk.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        stats.prompt_tokens = usage["prompt_tokens"]
    timings = chunk.get("timings")
    if isinstance(timings, dict):
        if isinstance(timings.get("prompt_n"), int):
            stats.prompt_tokens_evaluated = timings["prompt_n"]
        if isinstance(timings.get("predicted_per_second"), int | float):
            stats.engine_tokens_per_s = float(timings["predicted_per_second"])
    choices = chunk.get("choices")
    if choices is None:
        choices = []
    if not isinstance(choices, list):
        raise malformed("'choices' is not a list", choices)
    for choice in choices:
        if not isinstance(choice, dict):
            raise malformed("a choice is not a JSON object", choice)
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise malformed("a choice's 'delta' is not a JSON object", delta)
        piece = delta.get("content") or ""
        if not isinstance(piece, str):
            raise malformed("a delta's 'content' is not text", piece)
        if choice.get("finish_reason") == "length":
            stats.stopped = "length"
        if piece:
            stats.completion_tokens += 1
            yield piece
    return len(choices)

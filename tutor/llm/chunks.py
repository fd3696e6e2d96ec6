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


def chunk_pieces(chunk: Any, stats: GenerationStats) -> Generator[str, None, int]:
    """Yield the text pieces of one chunk and return how many choices it had; records usage
    and a ``length`` stop in ``stats``."""
    if not isinstance(chunk, dict):
        raise malformed("a chunk is not a JSON object", chunk)
    usage = chunk.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        stats.prompt_tokens = usage["prompt_tokens"]
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

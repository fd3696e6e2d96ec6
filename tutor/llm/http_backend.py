"""Any OpenAI-compatible chat server (llama_cpp.server, llama.cpp's server, vLLM).

The reply's time limit is a wall-clock deadline: it is checked after every piece of bytes the
server sends, keep-alive blank lines and ``: comment`` lines included, and no single read may
wait past it. (httpx-sse and the openai client both hand out whole events only and skip
comments inside their iterators, so a deadline checked per event never fires while a server
trickles keep-alives; that is why the few lines of SSE framing are read here, over httpx.)
"""

from __future__ import annotations

import codecs
import json
import logging
import time
from collections.abc import Callable, Iterator

import httpx

from knowledge.common.errors import BackendError
from tutor.llm.base import GenerationStats, LLMBackend, Message, register_backend
from tutor.llm.chunks import chunk_pieces, malformed
from tutor.settings import Settings

log = logging.getLogger(__name__)

_SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")


@register_backend("openai-http")
class OpenAIHttpBackend(LLMBackend):
    """Streams ``/v1/chat/completions`` over server-sent events."""

    def __init__(self, base_url: str, model: str = "", timeout_s: float = 300.0,
                 api_key: str = "") -> None:
        super().__init__()
        if not base_url:
            raise BackendError("the HTTP backend needs a server URL",
                               "set ERICA_LLM_URL, e.g. http://127.0.0.1:8000")
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=5.0))

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIHttpBackend:
        """``llm_model`` names the server's model only when it was set on purpose (the
        default names the in-process model, which the server may not have)."""
        default = Settings.model_fields["llm_model"].default
        model = "" if settings.llm_model == default else settings.llm_model
        return cls(settings.llm_url, model=model, timeout_s=settings.llm_timeout_s)

    @property
    def model_name(self) -> str:
        return f"{self.model or 'server model'} @ {self.base_url}"

    def _unreachable(self, exc: Exception) -> BackendError:
        return BackendError(
            f"the language-model server at {self.base_url} cannot be reached "
            f"({type(exc).__name__})",
            "start it (e.g. `python -m llama_cpp.server --model FILE.gguf --host 127.0.0.1`) "
            "or unset ERICA_LLM_BACKEND to use the in-process model",
        )

    def _timed_out(self) -> BackendError:
        return BackendError(f"the language-model server at {self.base_url} timed out",
                            "check the server, or raise ERICA_LLM_TIMEOUT_S")

    def _stream(self, messages: list[Message], max_tokens: int, stats: GenerationStats,
                should_stop: Callable[[], bool], deadline: float) -> Iterator[str]:
        body = {"messages": messages, "max_tokens": max_tokens, "stream": True,
                "temperature": 0.3, "stream_options": {"include_usage": True}}
        if self.model:
            body["model"] = self.model
        left = max(0.01, deadline - time.perf_counter())
        timeout = httpx.Timeout(left, connect=min(5.0, left))  # no read waits past the deadline
        try:
            with self.client.stream("POST", "/v1/chat/completions", json=body,
                                    timeout=timeout) as response:
                if response.status_code != 200:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise BackendError(
                        f"the language-model server answered HTTP {response.status_code}: "
                        f"{detail}", "check the server's log and its model")
                yield from self._events(response, stats, should_stop)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._unreachable(exc) from exc
        except httpx.TimeoutException as exc:
            raise self._timed_out() from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"the language-model server failed: {exc}",
                               "check the server's log") from exc

    def _events(self, response: httpx.Response, stats: GenerationStats,
                should_stop: Callable[[], bool]) -> Iterator[str]:
        """The pieces of the event stream; the deadline is checked at every arrival."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        choices = 0
        for raw in response.iter_raw():
            if should_stop():  # keep-alives and comments count against the deadline too
                return
            pending += decoder.decode(raw)
            *lines, pending = pending.split("\n")
            for line in lines:
                line = line.rstrip("\r")
                if not line.startswith("data:"):
                    if line and not line.startswith(_SSE_FIELDS):
                        raise malformed("the answer is not a server-sent event stream", line)
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    if not choices:
                        raise malformed("the stream ended without any answer", data)
                    return
                try:
                    event = json.loads(data)
                except ValueError as exc:
                    raise malformed("an event is not JSON", data) from exc
                choices += yield from chunk_pieces(event, stats)
                if should_stop():
                    return
        if pending.strip() and not pending.startswith(_SSE_FIELDS):
            raise malformed("the answer is not a server-sent event stream", pending)
        if not choices:
            raise malformed("the stream ended without any answer", pending[:120])
        log.debug("the server closed the stream without [DONE]")

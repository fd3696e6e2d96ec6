"""Any OpenAI-compatible chat server (llama.cpp's server, vLLM, llama_cpp.server).

Requests go to the server as many at a time as it has parallel slots (llama.cpp's server says
how many in ``/props``; ``ERICA_LLM_PARALLEL`` sets it for others, else 1), so students wait
in Erica's queue, where the wait can be shown, only when every slot is busy. What the server
says about itself is asked again every half minute and after a failure, so a restarted
server (with other slots) is picked up without restarting Erica.

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
import threading
import time
from collections.abc import Callable, Iterator

import httpx

from knowledge.common.errors import BackendError
from tutor.llm.base import GenerationStats, LLMBackend, Message, OnWait, register_backend
from tutor.llm.chunks import chunk_pieces, malformed, server_error
from tutor.llm.llama_server import ServerInfo, probe
from tutor.settings import Settings

log = logging.getLogger(__name__)

_SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")
PROBE_EVERY_S = 30.0


@register_backend("openai-http")
class OpenAIHttpBackend(LLMBackend):
    """Streams ``/v1/chat/completions`` over server-sent events."""

    def __init__(self, base_url: str, model: str = "", timeout_s: float = 300.0,
                 api_key: str = "", parallel: int = 0) -> None:
        super().__init__()
        if not base_url:
            raise BackendError("the HTTP backend needs a server URL",
                               "set ERICA_LLM_URL, e.g. http://127.0.0.1:8080 (`erica serve`)")
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        self.parallel = parallel  # 0: as many as the server says it has slots
        self.gate.capacity = parallel or 1
        self.info: ServerInfo | None = None  # set when the server is llama.cpp's
        self._probed_at = float("-inf")
        self._probe_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            timeout=httpx.Timeout(timeout_s, connect=5.0))

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIHttpBackend:
        """``llm_model`` names the server's model only when it was set on purpose (the
        default names the in-process model, which the server may not have)."""
        default = Settings.model_fields["llm_model"].default
        model = "" if settings.llm_model == default else settings.llm_model
        return cls(settings.llm_url, model=model, timeout_s=settings.llm_timeout_s,
                   parallel=settings.llm_parallel)

    @property
    def model_name(self) -> str:
        name = self.model or (self.info.model if self.info and self.info.model else "")
        return f"{name or 'server model'} @ {self.base_url}"

    def refresh(self, force: bool = False) -> ServerInfo | None:
        """Ask the server about its slots (at most every PROBE_EVERY_S unless ``force``);
        an unreachable server is left for the request itself to report."""
        with self._probe_lock:
            if not force and time.monotonic() - self._probed_at < PROBE_EVERY_S:
                return self.info
            self._probed_at = time.monotonic()
            try:
                info = probe(self.client)
            except httpx.HTTPError as exc:
                log.info("cannot ask %s about its slots (%s)", self.base_url, exc)
                self._probed_at = float("-inf")  # ask again next time
                return self.info
            if info != self.info:
                log.info("LLM server %s: %s", self.base_url, info)
            self.info = info
            if not self.parallel:
                self.gate.capacity = info.slots if info else 1
            return info

    def warm(self, messages: list[Message]) -> None:
        """Learn the server's slots; a server that is not up yet is not an error here (each
        student's question says so, and a server started later is picked up)."""
        self.refresh(force=True)

    def stream_chat(self, messages: list[Message], max_tokens: int = 512,
                    stop_event: threading.Event | None = None, timeout_s: float = 300.0,
                    on_wait: OnWait | None = None, stats: GenerationStats | None = None,
                    on_start: Callable[[], None] | None = None) -> Iterator[str]:
        self.refresh()  # slots known before the gate decides who waits
        return super().stream_chat(messages, max_tokens, stop_event, timeout_s, on_wait,
                                   stats, on_start)

    def _unreachable(self, exc: Exception) -> BackendError:
        return BackendError(
            f"the language-model server at {self.base_url} cannot be reached "
            f"({type(exc).__name__})",
            "start it (`erica serve`: llama.cpp's server, see the README's 'A whole class at "
            "once'; or `python -m llama_cpp.server --model FILE.gguf`), or unset "
            "ERICA_LLM_BACKEND to use the in-process model; Erica uses it as soon as it runs",
        )

    def _timed_out(self) -> BackendError:
        return BackendError(f"the language-model server at {self.base_url} timed out",
                            "check the server, or raise ERICA_LLM_TIMEOUT_S")

    def _body(self, messages: list[Message], max_tokens: int) -> dict:
        """The request; a llama.cpp server gets the in-process model's sampling too, so the
        same lesson reads the same from either backend."""
        body = {"messages": messages, "max_tokens": max_tokens, "stream": True,
                "temperature": 0.3, "top_p": 0.9, "stream_options": {"include_usage": True}}
        if self.info is not None:
            body.update(repeat_penalty=1.1, cache_prompt=True)
        if self.model:
            body["model"] = self.model
        return body

    def _stream(self, messages: list[Message], max_tokens: int, stats: GenerationStats,
                should_stop: Callable[[], bool], deadline: float) -> Iterator[str]:
        body = self._body(messages, max_tokens)
        left = max(0.01, deadline - time.perf_counter())
        timeout = httpx.Timeout(left, connect=min(5.0, left))  # no read waits past the deadline
        try:
            with self.client.stream("POST", "/v1/chat/completions", json=body,
                                    timeout=timeout) as response:
                if response.status_code != 200:
                    raise self._refused(response)
                yield from self._events(response, stats, should_stop)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._probed_at = float("-inf")  # a server started again may have other slots
            raise self._unreachable(exc) from exc
        except httpx.TimeoutException as exc:
            raise self._timed_out() from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            self._probed_at = float("-inf")
            where = "in the middle of the answer" if stats.completion_tokens else \
                "before answering"
            raise BackendError(
                f"the language-model server at {self.base_url} stopped {where} (the "
                f"connection closed: {type(exc).__name__})",
                "the server may have crashed or been restarted: check its log, then ask "
                "again") from exc
        except httpx.HTTPError as exc:
            raise BackendError(f"the language-model server failed: {exc}",
                               "check the server's log") from exc

    @staticmethod
    def _refused(response: httpx.Response) -> BackendError:
        """A non-200 answer as a clear error (the server's own JSON error when it sent one)."""
        raw = response.read().decode("utf-8", "replace")
        try:
            error = json.loads(raw).get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, dict):
            return server_error(error, response.status_code)
        if response.status_code == 503:
            return server_error({}, 503)
        return BackendError(f"the language-model server answered HTTP {response.status_code}: "
                            f"{raw[:300]}", "check the server's log and its model")

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

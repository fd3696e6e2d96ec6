"""The backend interface, the registry, and the gate that serialises generation."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from knowledge.common.errors import BackendError, InvalidInputError
from tutor.settings import Settings

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}
OnWait = Callable[[int], None]  # called with the number of requests ahead of this one


@dataclass
class GenerationStats:
    """Timings of one generation; filled in while it streams."""

    started: float = field(default_factory=time.perf_counter)
    queued_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stopped: str = ""  # "", "stop" (user), "timeout", "length", "sentences" (enough said)
    engine_tokens_per_s: float = 0.0  # the engine's own count (llama.cpp perf), if known
    prompt_tokens_evaluated: int = 0  # prompt tokens not served from the KV cache

    @property
    def tokens_per_s(self) -> float:
        """Generation speed after the first token (prompt processing excluded)."""
        if self.first_token_s is None or self.completion_tokens < 2:
            return 0.0
        span = self.total_s - self.first_token_s
        return (self.completion_tokens - 1) / span if span > 0 else 0.0


class GenerationGate:
    """One generation at a time, first come first served; waiting callers learn their place.

    llama.cpp crashes when two threads use one model, so the whole streaming loop runs
    inside the gate.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()  # tickets whose callers gave up while queued
        self._warmups: set[int] = set()  # tickets of warm-ups (not a student's answer)
        self._durations: deque[float] = deque(maxlen=8)  # recent answers' time in the gate

    @property
    def typical_s(self) -> float:
        """Median time an answer held the gate recently (0 before the first answer)."""
        with self._cond:
            recent = sorted(self._durations)
        return recent[len(recent) // 2] if recent else 0.0

    @property
    def waiting(self) -> int:
        with self._cond:
            return self._next_ticket - self._serving

    @contextmanager
    def hold(self, on_wait: OnWait | None = None, timeout_s: float | None = None,
             warmup: bool = False):
        """Wait for our turn. ``on_wait(ahead)`` is told how many students' answers are ahead
        (0 while only a warm-up is: the model is being made ready)."""
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            if warmup:
                self._warmups.add(ticket)
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            last_reported = -1
            while self._serving != ticket:
                ahead = sum(1 for t in range(self._serving, ticket)
                            if t not in self._warmups and t not in self._abandoned)
                if on_wait and ahead != last_reported:
                    on_wait(ahead)
                    last_reported = ahead
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._abandoned.add(ticket)
                    raise BackendError("timed out waiting for the model (other students' "
                                       "answers are still being written)",
                                       "try again in a minute")
                self._cond.wait(timeout=1.0 if remaining is None else min(remaining, 1.0))
        entered = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                if not warmup:
                    self._durations.append(time.monotonic() - entered)
                self._warmups.discard(ticket)
                self._serving += 1
                self._skip_abandoned()
                self._cond.notify_all()

    def _skip_abandoned(self) -> None:
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1


class LLMBackend(ABC):
    """A chat model that streams text. Implementations are registered by name and build
    themselves from the settings (:meth:`from_settings`), so adding one touches no other file.
    """

    name: str = ""

    def __init__(self) -> None:
        self.gate = GenerationGate()

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> LLMBackend:
        """The backend as ``settings`` configure it."""

    @classmethod
    def cache_key(cls, settings: Settings) -> tuple:
        """What makes two settings need two instances (one model per process otherwise)."""
        return (cls.name, settings.llm_model, settings.llm_url, settings.llm_context,
                settings.llm_threads, settings.llm_timeout_s, str(settings.models_dir))

    @property
    @abstractmethod
    def model_name(self) -> str:
        """What the UI shows as the active model."""

    @abstractmethod
    def _stream(self, messages: list[Message], max_tokens: int, stats: GenerationStats,
                should_stop: Callable[[], bool], deadline: float) -> Iterator[str]:
        """Yield text pieces; called with the gate held. ``deadline`` is the
        ``time.perf_counter()`` value by which the reply must end (``should_stop`` turns true
        then); a backend that can block waiting (a server) must not wait past it."""

    def warm(self, messages: list[Message]) -> None:  # noqa: B027 - optional hook
        """Prepare for prompts starting with ``messages`` (e.g. cache their KV state)."""

    def stream_chat(self, messages: list[Message], max_tokens: int = 512,
                    stop_event: threading.Event | None = None, timeout_s: float = 300.0,
                    on_wait: OnWait | None = None,
                    stats: GenerationStats | None = None,
                    on_start: Callable[[], None] | None = None) -> Iterator[str]:
        """Stream the reply to ``messages``; serialised, stoppable, time-limited.
        ``on_start`` is called when this request's turn comes."""
        if max_tokens < 1:
            raise InvalidInputError("max_tokens must be at least 1", "raise ERICA_MAX_TOKENS")
        stats = stats if stats is not None else GenerationStats()
        entered = time.perf_counter()
        deadline = entered + timeout_s

        def should_stop() -> bool:
            if stop_event is not None and stop_event.is_set():
                stats.stopped = "stop"
                return True
            if time.perf_counter() > deadline:
                stats.stopped = "timeout"
                return True
            return False

        with self.gate.hold(on_wait, timeout_s=timeout_s):
            stats.queued_s = time.perf_counter() - entered
            if on_start is not None:
                on_start()
            try:
                for piece in self._stream(messages, max_tokens, stats, should_stop, deadline):
                    if stats.first_token_s is None:
                        stats.first_token_s = time.perf_counter() - stats.started
                    yield piece
                    if should_stop():
                        break
            finally:
                stats.total_s = time.perf_counter() - stats.started


BACKENDS: dict[str, type[LLMBackend]] = {}


def register_backend(name: str):
    """Class decorator: make a backend available as ``ERICA_LLM_BACKEND=name``."""

    def decorate(cls):
        cls.name = name
        BACKENDS[name] = cls
        return cls

    return decorate

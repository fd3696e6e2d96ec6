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


class _Ticket:
    __slots__ = ("warmup",)

    def __init__(self, warmup: bool) -> None:
        self.warmup = warmup


class GenerationGate:
    """At most ``capacity`` generations at once, first come first served; waiting callers
    learn their place.

    llama.cpp crashes when two threads use one model, so the in-process backend has capacity
    1 and runs its whole streaming loop inside the gate; a server with N parallel slots gets
    capacity N (more requests would only queue inside the server, where nobody can say how
    long the wait is).
    """

    def __init__(self, capacity: int = 1) -> None:
        self._cond = threading.Condition()
        self._capacity = max(1, capacity)
        self._queue: deque[_Ticket] = deque()  # waiting, in order of arrival
        self._active: dict[_Ticket, float] = {}  # generating now -> when it entered
        self._durations: deque[float] = deque(maxlen=8)  # recent answers' time in the gate

    @property
    def capacity(self) -> int:
        return self._capacity

    @capacity.setter
    def capacity(self, value: int) -> None:
        with self._cond:
            self._capacity = max(1, int(value))
            self._cond.notify_all()

    @property
    def typical_s(self) -> float:
        """Median time an answer held the gate recently (0 before the first answer)."""
        with self._cond:
            recent = sorted(self._durations)
        return recent[len(recent) // 2] if recent else 0.0

    @property
    def waiting(self) -> int:
        """Requests waiting or generating."""
        with self._cond:
            return len(self._queue) + len(self._active)

    @property
    def active(self) -> int:
        """Requests generating now."""
        with self._cond:
            return len(self._active)

    def wait_estimate_s(self, ahead: int) -> float:
        """Roughly how long a request with ``ahead`` answers before it waits (0: unknown)."""
        return self.typical_s * ahead / self._capacity

    def _ahead(self, ticket: _Ticket) -> int:
        """Students' answers this ticket waits for: those queued before it, plus one for the
        busy slots when a student's answer holds one (warm-ups are not counted)."""
        before = 0
        for t in self._queue:
            if t is ticket:
                break
            before += not t.warmup
        full = len(self._active) >= self._capacity
        return before + (1 if full and any(not t.warmup for t in self._active) else 0)

    @contextmanager
    def hold(self, on_wait: OnWait | None = None, timeout_s: float | None = None,
             warmup: bool = False):
        """Wait for our turn. ``on_wait(ahead)`` is called only while this request really
        waits, with how many students' answers are ahead (0 while only a warm-up is: the
        model is being made ready)."""
        ticket = _Ticket(warmup)
        with self._cond:
            self._queue.append(ticket)
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            last_reported = -1
            while not (self._queue[0] is ticket and len(self._active) < self._capacity):
                ahead = self._ahead(ticket)
                if on_wait and ahead != last_reported:
                    on_wait(ahead)
                    last_reported = ahead
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._queue.remove(ticket)
                    self._cond.notify_all()
                    raise BackendError("timed out waiting for the model (other students' "
                                       "answers are still being written)",
                                       "try again in a minute")
                self._cond.wait(timeout=1.0 if remaining is None else min(remaining, 1.0))
            self._queue.popleft()
            self._active[ticket] = time.monotonic()
            self._cond.notify_all()  # the next in line may fit in a free slot too
        try:
            yield
        finally:
            with self._cond:
                entered = self._active.pop(ticket)
                if not warmup:
                    self._durations.append(time.monotonic() - entered)
                self._cond.notify_all()


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
                settings.llm_threads, settings.llm_timeout_s, settings.llm_parallel,
                str(settings.models_dir))

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

"""A deterministic stand-in model (``ERICA_LLM_BACKEND=fake``) for tests of lesson logic.

It loads nothing and never invents text: by default it answers with the sentences of the
prompt's ``<course>`` block, streamed a word at a time. Tests that need a particular answer
construct it with ``reply=`` (a string, or a function of the messages). Tests of what only a
real model shows (quality, speed, the chat template) use the real packaged models instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from tutor.llm.base import GenerationStats, LLMBackend, Message, register_backend
from tutor.settings import Settings

Reply = str | Callable[[list[Message]], str]

NOT_COVERED = "The course notes do not cover this question."
_COURSE = re.compile(r"<course>(.*?)</course>", re.DOTALL)
_LABEL = re.compile(r"^\s*\[[^\]\n]*\]\s*", re.MULTILINE)  # "[A* search] " before a card
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PIECE = re.compile(r"\S+\s*|\s+")


def course_sentences(messages: list[Message]) -> list[str]:
    """The sentences inside the ``<course>`` block of the last message that has one."""
    for message in reversed(messages):
        found = _COURSE.search(message.get("content", ""))
        if found:
            text = _LABEL.sub("", found.group(1))
            return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    return []


def copy_course(messages: list[Message]) -> str:
    """The default reply: the course block's sentences, one per line."""
    return "\n".join(course_sentences(messages)) or NOT_COVERED


@register_backend("fake")
class FakeBackend(LLMBackend):
    """Streams a fixed or computed reply in small pieces (a word and its spacing each)."""

    def __init__(self, reply: Reply = copy_course, delay_s: float = 0.0) -> None:
        super().__init__()
        self.reply = reply
        self.delay_s = delay_s
        self.calls: list[list[Message]] = []  # what it was asked, for tests to inspect

    @classmethod
    def from_settings(cls, settings: Settings) -> FakeBackend:
        return cls()

    @property
    def model_name(self) -> str:
        return "fake (copies the course notes)"

    def _stream(self, messages: list[Message], max_tokens: int, stats: GenerationStats,
                should_stop: Callable[[], bool], deadline: float) -> Iterator[str]:
        self.calls.append([dict(m) for m in messages])
        text = self.reply(messages) if callable(self.reply) else self.reply
        stats.prompt_tokens = sum(len(m.get("content", "").split()) for m in messages)
        for piece in _PIECE.findall(text):
            if stats.completion_tokens >= max_tokens:
                stats.stopped = "length"
                return
            if self.delay_s:
                time.sleep(self.delay_s)
            stats.completion_tokens += 1
            yield piece
            if should_stop():
                return

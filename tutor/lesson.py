"""A lesson: the card sections at once, then the model's checked answer to the exact question.

Order on screen. In the UI the model's answer has its place at the top, under the title, and
fills in while the card sections below it are already shown (a student reads the direct answer
first). A terminal cannot write above what it has printed, so ``erica ask`` prints the card
sections at once and streams the answer after them, under its own heading: the student has the
whole card lesson to read while the model works. ``Lesson.markdown()`` is the UI order.

The model's text streams sentence by sentence: each sentence is checked against the cards the
model was given before it is shown, and sentences the cards do not support are left out (they
stay visible, with their verdict, in the lesson's checks).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from knowledge.cards import Concept
from knowledge.common.errors import EricaError
from knowledge.course import Course
from knowledge.language import COURSE_TEXT_NOTE
from knowledge.retrieval import Retrieval
from tutor.grounding import GroundingChecker, SentenceCheck
from tutor.llm.base import GenerationStats, LLMBackend
from tutor.prompts import build_messages
from tutor.sections import CardSections, compose
from tutor.sentences import SentenceStream

OnStatus = Callable[[str], None]
ANSWER_HEADING = "Your question, answered"
# The prompt asks for two to five sentences; a model that goes on past five restates the
# cards the lesson already shows, and the student waits for it (the flagship question's answer
# ran into the token cap). Generation stops after the fifth sentence.
MAX_ANSWER_SENTENCES = 5


@dataclass
class LessonTimings:
    first_content_s: float | None = None  # first visible text (the card sections)
    first_token_s: float | None = None  # first token of the model
    first_sentence_s: float | None = None  # first checked sentence of the model shown
    total_s: float = 0.0
    tokens_per_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    queued_s: float = 0.0
    stopped: str = ""  # "", "stop", "timeout", "length", "sentences", "error"
    engine_tokens_per_s: float = 0.0
    prompt_tokens_evaluated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def not_covered(retrieval: Retrieval) -> str:
    near = ", ".join(f"**{m.name}**" for m in retrieval.matches[:3])
    return ("# Not in the course\n\nThe course notes do not cover this question, so I won't "
            "invent an answer." + (f" The nearest course concepts are {near}." if near else "")
            + "\n\nTry rephrasing with course terms, or ask about one of those concepts.\n")


class Lesson:
    """One answer. Iterate for the terminal's Markdown pieces, or use :meth:`card_markdown`
    and :meth:`answer_pieces` to place the parts yourself (the UI does)."""

    def __init__(self, retrieval: Retrieval, course: Course, depth: int,
                 backend: Callable[[], LLMBackend] | None,
                 checker: Callable[[], GroundingChecker] | None,
                 history: list[tuple[str, str]], covered: bool, max_tokens: int,
                 timeout_s: float, context_words: int, language: str = "en",
                 stop_event: threading.Event | None = None,
                 on_status: OnStatus | None = None, started: float | None = None) -> None:
        self.retrieval = retrieval
        self.covered = covered
        self.cards: CardSections | None = compose(retrieval, course, depth) if covered else None
        self.messages = build_messages(retrieval, self.cards.main, history, context_words,
                                       language) if self.cards else []
        self.language = language
        self._backend = backend
        self._checker = checker
        self.model_name = ""
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.stop_event = stop_event or threading.Event()
        self.on_status = on_status or (lambda _msg: None)
        self.started = started if started is not None else time.perf_counter()
        self.timings = LessonTimings()
        self.checks: list[SentenceCheck] = []
        self.answer = ""  # the model's text as shown (checked sentences and notes)
        self.notice = ""  # why the model's answer is missing or short, if it is
        self.error: EricaError | None = None  # the model's failure, for the UI to show

    # -- the parts ---------------------------------------------------------------------
    def card_markdown(self) -> str:
        """Title and card sections (or the not-covered message): ready at once."""
        if self.cards is None:
            return not_covered(self.retrieval)
        return f"# {self.cards.title}\n\n{self._language_note()}" + self.cards.markdown() \
            + self._built_from()

    def _language_note(self) -> str:
        """One line in the student's language: the card sections are quoted in English."""
        return f"_{COURSE_TEXT_NOTE[self.language]}_\n\n" if self.language != "en" else ""

    def _built_from(self) -> str:
        used = ", ".join(c.name for c in self.retrieval.concepts)
        return f"_Built from the course concepts: {used}._\n"

    def markdown(self) -> str:
        """The whole lesson in the UI's order: title, the answer, then the card sections."""
        if self.cards is None:
            return not_covered(self.retrieval)
        return (f"# {self.cards.title}\n\n## {ANSWER_HEADING}\n{self.answer.strip()}\n\n"
                + self._language_note() + self.cards.markdown() + self._built_from())

    @property
    def text(self) -> str:
        return self.markdown()

    def stop(self) -> None:
        """Ask the generation to stop after the current token."""
        self.stop_event.set()

    def mark_shown(self) -> None:
        """Record the moment the card sections became visible (first content)."""
        if self.timings.first_content_s is None:
            self.timings.first_content_s = time.perf_counter() - self.started

    # -- the model's answer --------------------------------------------------------------
    def answer_pieces(self) -> Iterator[str]:
        """The model's answer, one checked sentence at a time (Markdown)."""
        if self.cards is None or self._backend is None:
            return
        stats = GenerationStats(started=self.started)
        try:
            backend = self._backend()
            self.model_name = backend.model_name
            checker = self._checker() if self._checker else None
            evidence = checker.evidence(self._evidence_cards(), self.retrieval.question) \
                if checker else None
            self.on_status(f"Writing the answer with {backend.model_name}...")
            stream = SentenceStream()
            pieces = backend.stream_chat(
                self.messages, max_tokens=self.max_tokens, stop_event=self.stop_event,
                timeout_s=self.timeout_s, on_wait=self._on_wait(backend), stats=stats,
                on_start=lambda: self.on_status(f"Writing the answer with "
                                                f"{backend.model_name}..."))
            try:
                for piece in pieces:
                    for sentence in stream.feed(piece):
                        yield from self._show(sentence, checker, evidence)
                    if len(self.checks) >= MAX_ANSWER_SENTENCES:
                        stats.stopped = "sentences"
                        break
                else:
                    for sentence in stream.flush():
                        yield from self._show(sentence, checker, evidence)
            finally:
                pieces.close()  # frees the model for the next student at once
        except EricaError as exc:
            stats.stopped = "error"
            self.error = exc
            self.notice = (f"The language model could not answer ({exc.cause}). The card "
                           "sections stand on their own." + (f" How to fix it: {exc.fix}"
                                                             if exc.fix else ""))
        finally:
            self._record(stats)
        yield from self._closing_notes(stats)

    def _evidence_cards(self) -> list[Concept]:
        """Exactly the card text the model was given: main cards whole, others' summaries."""
        main = {c.id for c in self.cards.main}
        others = [c.card for c in [*self.retrieval.matched, *self.retrieval.prerequisites]
                  if c.id not in main][:4]
        return [*(c.card for c in self.cards.main),
                *(dataclasses.replace(c, explanation="", example="", code="") for c in others)]

    def _on_wait(self, backend: LLMBackend) -> Callable[[int], None]:
        def on_wait(ahead: int) -> None:
            if ahead <= 0:
                self.on_status("Getting the language model ready (first use)...")
                return
            eta = backend.gate.wait_estimate_s(ahead)
            about = f", about {eta:.0f} s" if eta else ""
            self.on_status(f"Waiting for the model: {ahead} answer(s) ahead of yours{about}.")
        return on_wait

    def _show(self, sentence: str, checker: GroundingChecker | None,
              evidence) -> Iterator[str]:
        if checker is None:
            return
        check = checker.check(sentence, evidence)
        self.checks.append(check)
        if check.shown:
            if self.timings.first_sentence_s is None:
                self.timings.first_sentence_s = time.perf_counter() - self.started
            piece = sentence + " "
            self.answer += piece
            yield piece

    def _closing_notes(self, stats: GenerationStats) -> Iterator[str]:
        notes = []
        left_out = [c for c in self.checks if not c.shown]
        if self.notice:
            notes.append(self.notice)
        elif self.checks and not any(c.shown for c in self.checks):
            notes.append("The model's answer is not shown: none of its sentences could be "
                         "checked against the course notes. The card sections answer from "
                         "the notes.")
        if left_out and any(c.shown for c in self.checks):
            contradicted = sum(c.verdict == "contradicted" for c in left_out)
            notes.append(f"Left out: {len(left_out)} sentence(s) of the model's answer that the "
                         "course notes do not support"
                         + (f" ({contradicted} contradicted them)" if contradicted else "")
                         + "; see the retrieved context.")
        if stats.stopped == "stop":
            notes.append("(generation stopped)")
        elif stats.stopped == "timeout":
            notes.append("(the answer was cut off by the time limit)")
        for note in notes:
            piece = f"\n\n_{note}_"
            self.answer += piece
            yield piece

    def _record(self, stats: GenerationStats) -> None:
        t = self.timings
        t.total_s = time.perf_counter() - self.started
        t.first_token_s = stats.first_token_s
        t.tokens_per_s = stats.tokens_per_s
        t.prompt_tokens = stats.prompt_tokens
        t.completion_tokens = stats.completion_tokens
        t.queued_s = stats.queued_s
        t.stopped = stats.stopped
        t.engine_tokens_per_s = stats.engine_tokens_per_s
        t.prompt_tokens_evaluated = stats.prompt_tokens_evaluated

    # -- terminal order --------------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        try:
            yield self.card_markdown()
            self.mark_shown()
            if self.cards is not None:
                yield f"\n## {ANSWER_HEADING}\n"
                yield from self.answer_pieces()
                yield "\n"
        finally:
            self.timings.total_s = time.perf_counter() - self.started

    def to_json(self) -> dict[str, Any]:
        """What was shown and why: sections, the answer, each checked sentence, timings."""
        return {
            "question": self.retrieval.question,
            "covered": self.covered,
            "title": self.cards.title if self.cards else None,
            "main_concepts": [c.id for c in self.cards.main] if self.cards else [],
            "sections": self.cards.headings() if self.cards else [],
            "code_from": self.cards.code_cards if self.cards else [],
            "answer": self.answer.strip(),
            "lesson": self.markdown(),
            "model": self.model_name or None,
            "language": self.language,
            "checks": [c.to_json() for c in self.checks],
            "timings": self.timings.as_dict(),
        }

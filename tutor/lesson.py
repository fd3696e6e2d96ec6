"""A lesson, streamed: sections from the graph at once, the model's sections as they come."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from knowledge.retrieval import Retrieval
from tutor.llm.base import GenerationStats, LLMBackend
from tutor.prompts import build_messages
from tutor.reading import further_reading

OnStatus = Callable[[str], None]


@dataclass
class LessonTimings:
    first_content_s: float | None = None  # first visible text (from the graph)
    first_token_s: float | None = None  # first token of the model
    total_s: float = 0.0
    tokens_per_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    queued_s: float = 0.0
    stopped: str = ""
    engine_tokens_per_s: float = 0.0
    prompt_tokens_evaluated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _title(retrieval: Retrieval) -> str:
    return retrieval.matched[0].name if retrieval.matched else "Your question"


def opening_sections(retrieval: Retrieval) -> str:
    """Title, *Why it matters* and *Prerequisites*, straight from the cards and the graph."""
    top = retrieval.matched[0]
    parts = [f"# {_title(retrieval)}\n", "## Why it matters\n", top.card.summary]
    if retrieval.next_steps:
        names = ", ".join(c.name for c in retrieval.next_steps[:3])
        parts.append(f" It is the ground on which {names} build.")
    parts.append("\n\n## Prerequisites\n")
    prereqs = retrieval.prerequisites
    if prereqs:
        parts.append("Learn these first, in this order:\n\n")
        parts += [f"{i}. **{c.name}**: {c.card.summary}\n" for i, c in enumerate(prereqs, 1)]
    else:
        parts.append("None beyond the concepts themselves: this is a starting point.\n")
    return "".join(parts) + "\n"


def closing_sections(retrieval: Retrieval, max_sources: int = 6) -> str:
    """*Further reading* (course material passages, then the cards' sources) and *Next steps*
    from the graph."""
    passages = retrieval.passages[:3]
    shown = {hit.label for hit in passages}
    cited_by: dict[str, list[str]] = {}  # one line per source, naming every card citing it
    ordered = [*retrieval.matched, *sorted(retrieval.prerequisites, key=lambda c: -c.score)]
    for concept in ordered:
        for source in concept.card.sources:
            if source not in shown:
                cited_by.setdefault(source, []).append(concept.name)
    lines = ["\n\n## Further reading\n", *further_reading(passages)]
    lines += [f"- {source} ({', '.join(names)})\n"
              for source, names in list(cited_by.items())[:max_sources]] or (
        [] if passages else ["- (no sources on these cards)\n"])
    lines.append("\n## Next steps\n")
    if retrieval.next_steps:
        lines += [f"- **{c.name}**: {c.summary}\n" for c in retrieval.next_steps]
    else:
        lines.append("- You have reached the end of this path in the course graph.\n")
    used = ", ".join(c.name for c in retrieval.concepts)
    lines.append(f"\n_Built from the course concepts: {used}._\n")
    return "".join(lines)


def not_covered(retrieval: Retrieval) -> str:
    near = ", ".join(f"**{m.name}**" for m in retrieval.matches[:3])
    return ("# Not in the course\n\nThe course notes do not cover this question, so I won't "
            "invent an answer." + (f" The nearest course concepts are {near}." if near else "")
            + "\n\nTry rephrasing with course terms, or ask about one of those concepts.\n")


class Lesson:
    """Iterate for markdown pieces. ``text`` and ``timings`` are complete after iteration."""

    def __init__(self, retrieval: Retrieval, backend: LLMBackend | None,
                 history: list[tuple[str, str]], covered: bool, max_tokens: int,
                 timeout_s: float, context_words: int, stop_event: threading.Event | None = None,
                 on_status: OnStatus | None = None, started: float | None = None) -> None:
        self.retrieval = retrieval
        self.backend = backend
        self.covered = covered
        self.messages = build_messages(retrieval, history, context_words) if covered else []
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.stop_event = stop_event or threading.Event()
        self.on_status = on_status or (lambda _msg: None)
        self.started = started if started is not None else time.perf_counter()
        self.timings = LessonTimings()
        self.text = ""

    def stop(self) -> None:
        """Ask the generation to stop after the current token."""
        self.stop_event.set()

    def _emit(self, piece: str) -> str:
        if self.timings.first_content_s is None:
            self.timings.first_content_s = time.perf_counter() - self.started
        self.text += piece
        return piece

    def __iter__(self) -> Iterator[str]:
        try:
            if not self.covered or self.backend is None:
                yield self._emit(not_covered(self.retrieval))
                return
            yield self._emit(opening_sections(self.retrieval))
            stats = GenerationStats(started=self.started)

            def on_wait(ahead: int) -> None:
                self.on_status(f"Queued: {ahead} answer(s) ahead of yours are being written.")

            self.on_status(f"Writing the lesson with {self.backend.model_name}...")
            try:
                for piece in self.backend.stream_chat(
                        self.messages, max_tokens=self.max_tokens, stop_event=self.stop_event,
                        timeout_s=self.timeout_s, on_wait=on_wait, stats=stats):
                    yield self._emit(piece)
            finally:
                self.timings.first_token_s = stats.first_token_s
                self.timings.tokens_per_s = stats.tokens_per_s
                self.timings.prompt_tokens = stats.prompt_tokens
                self.timings.completion_tokens = stats.completion_tokens
                self.timings.queued_s = stats.queued_s
                self.timings.stopped = stats.stopped
                self.timings.engine_tokens_per_s = stats.engine_tokens_per_s
                self.timings.prompt_tokens_evaluated = stats.prompt_tokens_evaluated
            if stats.stopped in ("stop", "timeout"):
                note = "stopped" if stats.stopped == "stop" else "cut off by the time limit"
                yield self._emit(f"\n\n_(generation {note})_")
            yield self._emit(closing_sections(self.retrieval))
        finally:
            self.timings.total_s = time.perf_counter() - self.started

"""The tutor: a question in, a lesson out (card sections at once, the model's checked answer
streamed). The UI and the CLI call this."""

from __future__ import annotations

import threading
import time

from knowledge.retrieval import Retriever
from tutor import runtime
from tutor.conversation import Conversation
from tutor.grounding import GroundingChecker
from tutor.lesson import Lesson, OnStatus
from tutor.llm.base import LLMBackend
from tutor.llm.factory import get_backend
from tutor.settings import Settings


class Tutor:
    """Retrieval plus a language model. Shared by all users; each chat has a Conversation."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None,
                 backend: LLMBackend | None = None) -> None:
        self.settings = settings
        self._retriever = retriever
        self._backend = backend
        self._checker: GroundingChecker | None = None
        self._lock = threading.Lock()

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = runtime.retriever(self.settings)
        return self._retriever

    @property
    def backend(self) -> LLMBackend:
        """The language model, loaded on first use (not before the card sections show)."""
        if self._backend is None:
            self._backend = get_backend(self.settings)
        return self._backend

    @property
    def checker(self) -> GroundingChecker:
        with self._lock:
            if self._checker is None or self._checker.embedder is not self.retriever.embedder:
                self._checker = GroundingChecker(self.retriever.embedder)
            return self._checker

    def warm(self) -> None:
        """Load everything and put the fixed system prompt in the model's KV cache, so the
        first student does not pay for it."""
        from tutor.prompts import SYSTEM_PROMPT

        _ = self.retriever
        self.backend.warm([{"role": "system", "content": SYSTEM_PROMPT}])

    def ask(self, question: str, conversation: Conversation | None = None, k: int | None = None,
            depth: int | None = None, max_concepts: int | None = None,
            stop_event: threading.Event | None = None,
            on_status: OnStatus | None = None) -> Lesson:
        """Retrieve now (errors raise here), return a Lesson whose card sections are ready;
        the model is loaded only when its answer is asked for."""
        started = time.perf_counter()
        s = self.settings
        k, depth, max_concepts = runtime.retrieval_options(s, k, depth, max_concepts)
        if on_status:
            on_status("Retrieving course concepts...")
        history = list(conversation.turns) if conversation else []
        retriever = self.retriever
        retrieval = retriever.retrieve(question, k=k, depth=depth, max_concepts=max_concepts,
                                       history=[q for q, _ in history])
        best = max((m.score for m in retrieval.matches), default=0.0)
        covered = best >= s.min_match_score
        return Lesson(retrieval, retriever.course, depth,
                      backend=(lambda: self.backend) if covered else None,
                      checker=lambda: self.checker, history=history, covered=covered,
                      max_tokens=s.max_tokens, timeout_s=s.llm_timeout_s,
                      context_words=s.context_words, stop_event=stop_event,
                      on_status=on_status, started=started)

"""The tutor: a question in, a lesson out (card sections at once, the model's checked answer
streamed). The UI and the CLI call this."""

from __future__ import annotations

import threading
import time

from knowledge.retrieval import Retriever
from tutor import runtime
from tutor.conversation import Conversation
from tutor.grounding import CROSS_LANGUAGE_THRESHOLD, GroundingChecker
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
        self._checkers: dict[str, GroundingChecker] = {}
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

    def checker(self, language: str = "en") -> GroundingChecker:
        """The sentence checker for answers in ``language``: the store's embedder and the
        English word rules for English, the multilingual embedder for other languages."""
        cross = language != "en" and bool(self.settings.multilingual_model)
        key = "cross" if cross else "en"
        with self._lock:
            if key not in self._checkers:
                self._checkers[key] = GroundingChecker(
                    runtime.multilingual_embedder(self.settings), CROSS_LANGUAGE_THRESHOLD,
                    word_rules=False) if cross else GroundingChecker(self.retriever.embedder)
            return self._checkers[key]

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
        language = retrieval.language if retrieval.language in ("en", "cs", "ru") else "en"
        return Lesson(retrieval, retriever.course, depth,
                      backend=(lambda: self.backend) if covered else None,
                      checker=lambda: self.checker(language), history=history, covered=covered,
                      language=language,
                      max_tokens=s.max_tokens, timeout_s=s.llm_timeout_s,
                      context_words=s.context_words, stop_event=stop_event,
                      on_status=on_status, started=started)

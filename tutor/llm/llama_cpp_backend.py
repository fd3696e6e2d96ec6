"""llama-cpp-python in process: one model per process, every user served in turn."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from knowledge.common.errors import BackendError, ModelError
from tutor.llm.base import GenerationStats, LLMBackend, Message, register_backend
from tutor.llm.chunks import chunk_pieces
from tutor.llm.packaged import resolve_gguf
from tutor.settings import Settings

log = logging.getLogger(__name__)


@register_backend("llama-cpp")
class LlamaCppBackend(LLMBackend):
    """A GGUF model loaded with llama-cpp-python.

    The KV cache of the previous prompt is reused automatically for the longest common
    token prefix, so a fixed system prompt is processed once (see :meth:`warm`).
    """

    def __init__(self, model_path: Path, n_ctx: int = 4096, n_threads: int = 2,
                 label: str = "") -> None:
        super().__init__()
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError("llama-cpp-python is not installed",
                             "run scripts/setup.sh (it builds llama-cpp-python)") from exc
        self.path = Path(model_path)
        self._label = label or self.path.name
        try:
            self.llm = Llama(model_path=str(self.path), n_ctx=n_ctx, n_threads=n_threads,
                             n_batch=512, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"the GGUF model {self.path} cannot be loaded ({exc})",
                             "check the file, or choose another ERICA_LLM_MODEL") from exc
        if not self.llm.metadata.get("tokenizer.chat_template"):
            # Without a template llama-cpp-python falls back to the llama-2 format, which
            # makes ChatML-trained models (Qwen, SmolLM) loop or answer nothing.
            log.warning("%s has no chat template; using chatml", self.path.name)
            self.llm.chat_format = "chatml"
            self.llm.chat_handler = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LlamaCppBackend:
        path = resolve_gguf(settings.llm_model, settings.models_dir)
        return cls(path, n_ctx=settings.llm_context, n_threads=settings.llm_threads,
                   label=settings.llm_model)

    @property
    def model_name(self) -> str:
        return self._label

    def warm(self, messages: list[Message]) -> None:
        """Evaluate a prompt that starts with ``messages`` so later prompts reuse its KV cache."""
        with self.gate.hold(warmup=True):
            self.llm.create_chat_completion(messages=[*messages, {"role": "user",
                                                                  "content": "Hello"}],
                                            max_tokens=1)

    def _stream(self, messages: list[Message], max_tokens: int, stats: GenerationStats,
                should_stop: Callable[[], bool], deadline: float) -> Iterator[str]:
        import llama_cpp

        llama_cpp.llama_perf_context_reset(self.llm.ctx)
        try:
            chunks = self.llm.create_chat_completion(
                messages=messages, max_tokens=max_tokens, stream=True, temperature=0.3,
                top_p=0.9, repeat_penalty=1.1)
            for chunk in chunks:
                yield from chunk_pieces(chunk, stats)
                if should_stop():
                    break
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise BackendError(f"the model rejected the request: {exc}",
                               "ask a shorter question or lower Max concepts") from exc
        finally:
            stats.prompt_tokens = max(0, self.llm.n_tokens - stats.completion_tokens)
            perf = llama_cpp.llama_perf_context(self.llm.ctx)
            stats.prompt_tokens_evaluated = int(perf.n_p_eval)
            if perf.t_eval_ms > 0:
                stats.engine_tokens_per_s = perf.n_eval / perf.t_eval_ms * 1000.0

"""Creating the configured backend once per process."""

from __future__ import annotations

import threading

from knowledge.errors import BackendError
from tutor.llm import http_backend, llama_cpp_backend  # noqa: F401 - register the backends
from tutor.llm.base import BACKENDS, LLMBackend
from tutor.llm.packaged import resolve_gguf
from tutor.settings import Settings

_backends: dict[tuple, LLMBackend] = {}
_lock = threading.Lock()


def create_backend(settings: Settings) -> LLMBackend:
    """The backend named by ``settings.llm_backend`` (not cached)."""
    name = settings.llm_backend
    if name not in BACKENDS:
        raise BackendError(f"unknown LLM backend {name!r}",
                           f"set ERICA_LLM_BACKEND to one of {', '.join(BACKENDS)}")
    if name == "openai-http":
        model = "" if settings.llm_model in ("qwen2.5-coder-1.5b",) else settings.llm_model
        return BACKENDS[name](settings.llm_url, model=model, timeout_s=settings.llm_timeout_s)
    path = resolve_gguf(settings.llm_model, settings.models_dir)
    return BACKENDS[name](path, n_ctx=settings.llm_context, n_threads=settings.llm_threads,
                          label=settings.llm_model)


def get_backend(settings: Settings) -> LLMBackend:
    """The shared backend for these settings, created on first use."""
    key = (settings.llm_backend, settings.llm_model, settings.llm_url, settings.llm_context,
           settings.llm_threads, str(settings.models_dir))
    with _lock:
        if key not in _backends:
            _backends[key] = create_backend(settings)
        return _backends[key]

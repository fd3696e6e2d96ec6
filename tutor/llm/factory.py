"""Creating the configured backend once per process.

Backends register themselves by name (:func:`tutor.llm.base.register_backend`) in the modules
``tutor/llm/*_backend.py``, which are all imported here; each builds itself from the settings,
so a new backend is a new module and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

import tutor.llm
from knowledge.common.errors import BackendError
from tutor.llm.base import BACKENDS, LLMBackend
from tutor.settings import Settings

_backends: dict[tuple, LLMBackend] = {}
_lock = threading.Lock()


def available_backends() -> list[str]:
    """The registered backend names (every ``tutor/llm/*_backend.py`` module is imported)."""
    for module in pkgutil.iter_modules(tutor.llm.__path__):
        if module.name.endswith("_backend"):
            importlib.import_module(f"tutor.llm.{module.name}")
    return sorted(BACKENDS)


def backend_class(settings: Settings) -> type[LLMBackend]:
    """The registered class named by ``settings.llm_backend``."""
    names = available_backends()
    if settings.llm_backend not in names:
        raise BackendError(f"unknown LLM backend {settings.llm_backend!r}",
                           f"set ERICA_LLM_BACKEND to one of {', '.join(names)}")
    return BACKENDS[settings.llm_backend]


def create_backend(settings: Settings) -> LLMBackend:
    """The backend named by ``settings.llm_backend`` (not cached)."""
    return backend_class(settings).from_settings(settings)


def get_backend(settings: Settings) -> LLMBackend:
    """The shared backend for these settings, created on first use."""
    key = backend_class(settings).cache_key(settings)
    with _lock:
        if key not in _backends:
            _backends[key] = create_backend(settings)
        return _backends[key]

"""Shared, cached resources for the Streamlit pages (loaded once per server process).

The course, the concept store and the language model load in a background thread
(:class:`Loading`), so every page renders at once and says what is still loading.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from knowledge.common.errors import EricaError
from tutor.settings import Settings, load_settings
from tutor.tutor import Tutor

T = TypeVar("T")
log = logging.getLogger(__name__)
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


class Loading:
    """The shared Tutor and how far its background loading has got.

    ``course_ready`` is set once the course and the concept store answer (questions can be
    retrieved); ``done`` once the language model is loaded too, or loading failed
    (``error``)."""

    def __init__(self, tutor: Tutor) -> None:
        self.tutor = tutor
        self.stage = "Loading the course and the concept store"
        self.error: EricaError | None = None
        self.started = time.monotonic()
        self.course_ready = threading.Event()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self.run, daemon=True, name="erica-warm")
        self._start_lock = threading.Lock()

    def start(self) -> None:
        """Start loading (once). Pages call this after drawing themselves, so the browser
        gets the page, its scripts and fonts before the loading takes the CPU."""
        with self._start_lock:
            if not self._thread.is_alive() and not self.done.is_set():
                self.started = time.monotonic()
                self._thread.start()

    def run(self) -> None:
        with contextlib.suppress(OSError):  # below the threads that serve the pages
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            _ = self.tutor.retriever
            self.course_ready.set()
            self.stage = "Loading the language model"
            self.tutor.warm()
        except EricaError as exc:  # shown on the page and again when the user asks
            log.warning("loading failed: %s", exc.cause)
            self.error = exc
        except Exception:  # noqa: BLE001 - logged; the user's own question shows the cause
            log.exception("loading failed")
        finally:
            self.course_ready.set()
            self.done.set()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def message(self) -> str:
        """What is loading, in words, for the page."""
        return (f"{self.stage}... ({self.seconds:.0f} s). You can type your question "
                "now; Erica answers as soon as it is ready.")


@st.cache_resource(show_spinner=False)
def loading() -> Loading:
    """One Tutor (one model, one store) for every browser session; the backend's gate lets
    through one answer at a time in process, or as many as a model server has slots (the
    rest wait, told roughly how long). Loaded in the background (:meth:`Loading.start`) so
    pages render at once."""
    return Loading(Tutor(settings()))


def tutor() -> Tutor:
    """The shared Tutor, its loading started (see :func:`loading` for its progress)."""
    state = loading()
    state.start()
    return state.tutor


def wait_for_course(timeout: float | None = None) -> bool:
    """Block (with a spinner) until the course and the store are loaded; False on timeout."""
    state = loading()
    state.start()
    if state.course_ready.is_set():
        return True
    with st.spinner(f"{state.stage}..."):
        return state.course_ready.wait(timeout)


def show_error(exc: EricaError) -> None:
    """A readable error with its fix; never a traceback."""
    st.error(f"**{exc.cause}**" + (f"\n\nHow to fix it: {exc.fix}" if exc.fix else ""))


def guarded(fn: Callable[..., T], *args, **kwargs) -> T | None:
    """Run ``fn``; an EricaError becomes a message with its fix, anything else a short
    message (logged with its traceback on the server, never shown). Returns None then."""
    try:
        return fn(*args, **kwargs)
    except EricaError as exc:
        show_error(exc)
    except Exception as exc:  # noqa: BLE001 - a page must never show a traceback
        log.exception("unexpected error in the UI")
        st.error(f"Something went wrong: {type(exc).__name__}: {exc}")
    return None

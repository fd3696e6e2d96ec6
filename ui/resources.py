"""Shared, cached resources for the Streamlit pages (loaded once per server process)."""

from __future__ import annotations

import logging
import os
import threading
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


@st.cache_resource(show_spinner="Loading the course and the language model...")
def tutor() -> Tutor:
    """One Tutor (one model, one store) for every browser session; generation is serialised
    inside the backend. Warmed in the background so the page renders at once."""
    tutor = Tutor(settings())
    threading.Thread(target=_warm, args=(tutor,), daemon=True, name="erica-warm").start()
    return tutor


def _warm(tutor: Tutor) -> None:
    try:
        tutor.warm()
    except EricaError as exc:  # shown to the user when they ask; nothing to do here
        log.warning("warm-up failed: %s", exc.cause)


def show_error(exc: EricaError) -> None:
    """A readable error with its fix; never a traceback."""
    st.error(f"**{exc.cause}**" + (f"\n\nHow to fix it: {exc.fix}" if exc.fix else ""))


def guarded(fn: Callable[[], T]) -> T | None:
    """Run ``fn``; show an EricaError as a message and return None."""
    try:
        return fn()
    except EricaError as exc:
        show_error(exc)
        return None

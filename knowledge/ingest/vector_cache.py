"""Embeddings of short texts (concept names, candidate terms), cached on disk per model."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class TextVectors:
    """Embeddings of short texts (concept names, candidate terms) cached on disk per model,
    so a run with nothing new to read does not even load the model."""

    def __init__(self, path: Path, get_embedder: Callable[[], Any]):
        self.path = path
        self.get_embedder = get_embedder
        self.vectors: dict[str, np.ndarray] = {}
        self.dirty = False
        try:
            with np.load(path, allow_pickle=False) as data:
                self.vectors = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            self.vectors = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            vecs = self.get_embedder().encode(missing, batch_size=128)
            self.vectors.update(zip(missing, vecs, strict=True))
            self.dirty = True
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def save(self, keep: set[str]) -> None:
        if not self.dirty:
            return
        texts = sorted(t for t in self.vectors if t in keep)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, texts=np.array(texts, dtype=str),
                     vectors=np.stack([self.vectors[t] for t in texts]) if texts
                     else np.zeros((0, 1), dtype=np.float32))
            os.replace(tmp, self.path)
        except OSError:
            log.debug("vector cache not written", exc_info=True)

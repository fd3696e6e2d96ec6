"""Turning images into vectors in batches: decoding runs one batch ahead in a background
thread while the model encodes the current one (torch uses 2 threads)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.common.errors import InvalidInputError
from tutor.clip import images as imgs
from tutor.clip.models import ClipModel

BATCH_SIZE = 32


@dataclass
class Item:
    """One thing to embed: an image file, or a frame already decoded (``image`` set)."""

    id: str
    path: Path
    metadata: dict[str, Any]
    image: Any = None  # PIL image, for frames/uploads decoded beforehand


def _prepare(item: Item, model: ClipModel, max_mb: float) -> tuple[Any, dict] | str:
    """Decode + preprocess one item; returns (tensor, metadata) or a reason to skip."""
    try:
        if item.image is not None:
            image = item.image
            note = ""
            width, height = image.size
        else:
            decoded = imgs.decode_file(item.path, max_mb=max_mb)
            image, note = decoded.image, decoded.note
            width, height = decoded.width, decoded.height
        tensor = model.preprocess(image)
    except InvalidInputError as exc:
        return exc.cause
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the set
        return f"{type(exc).__name__}: {exc}"
    meta = dict(item.metadata)
    meta.update({"width": width, "height": height})
    if note:
        meta["note"] = note
    return tensor, meta


def encode_pipelined(model: ClipModel, items: list[Item], *, batch_size: int = BATCH_SIZE,
                     max_mb: float = imgs.MAX_FILE_MB, on_batch: Callable | None = None,
                     ) -> Iterator[tuple[list[Item], np.ndarray, list[dict], list[tuple]]]:
    """Yield (items, embeddings, metadatas, skipped) per batch; decoding runs one batch ahead
    in a background thread while the model encodes."""
    import torch

    batches: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for start in range(0, len(items), batch_size):
                if stop.is_set():
                    return
                chunk = items[start:start + batch_size]
                good, tensors, metas, skipped = [], [], [], []
                for item in chunk:
                    result = _prepare(item, model, max_mb)
                    if isinstance(result, str):
                        skipped.append((str(item.path), result))
                    else:
                        good.append(item)
                        tensors.append(result[0])
                        metas.append(result[1])
                batches.put((good, tensors, metas, skipped))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            batches.put(exc)
        finally:
            batches.put(None)

    thread = threading.Thread(target=produce, name="clip-decode", daemon=True)
    thread.start()
    try:
        while True:
            got = batches.get()
            if got is None:
                break
            if isinstance(got, BaseException):
                raise got
            good, tensors, metas, skipped = got
            emb = model.encode_image_tensors(torch.stack(tensors)) if tensors else \
                np.zeros((0, model.dim), np.float32)
            yield good, emb, metas, skipped
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.1)
        thread.join()


def encode_one_at_a_time(model: ClipModel, paths: Iterable[Path]) -> np.ndarray:
    """The baseline of the benchmark: decode, preprocess, encode each image alone."""
    out = []
    for path in paths:
        image = imgs.decode_file(path).image
        out.append(model.encode_image_tensors(model.preprocess(image).unsqueeze(0))[0])
    return np.stack(out) if out else np.zeros((0, model.dim), np.float32)

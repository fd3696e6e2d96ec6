"""Image sets in ChromaDB: one collection per (set, model), filled incrementally.

A set is a folder of images, uploads, frames of a video, or the demo set. Each file's id is a
hash of its resolved path; its metadata keeps size, mtime and sha256, so re-indexing skips
unchanged files (same size and mtime, or same content), re-embeds changed ones and removes
entries whose files are gone. Unreadable files are skipped with a reason; the rest continues.

Encoding is pipelined: a background thread decodes and preprocesses the next batch while the
model encodes the current one (torch uses 2 threads).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.errors import InvalidInputError, StoreError
from knowledge.hashing import sha256_file
from tutor.clip import images as imgs
from tutor.clip.models import ClipModel

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "clip"
SET_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$")
DEMO_SET = "demo"
BATCH_SIZE = 32
UPSERT_CHUNK = 512

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class IndexReport:
    """What one indexing run did."""

    set_name: str
    collection: str
    model: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, conversion note)
    total: int = 0  # items in the set afterwards
    seconds: float = 0.0
    encoded: int = 0

    @property
    def images_per_s(self) -> float:
        return self.encoded / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        text = (f"set {self.set_name!r} ({self.total} items, model {self.model}): "
                f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed, {len(self.skipped)} skipped")
        if self.encoded:
            text += f"; {self.encoded} encoded at {self.images_per_s:.1f} images/s"
        return text


@dataclass
class SetInfo:
    name: str
    collection: str
    model: str
    count: int
    kind: str


@dataclass
class Item:
    """One thing to embed: an image file, or a frame already decoded (``image`` set)."""

    id: str
    path: Path
    metadata: dict[str, Any]
    image: Any = None  # PIL image, for frames/uploads decoded beforehand


# --------------------------------------------------------------------------- names, clients


def check_set_name(name: str) -> str:
    if not SET_NAME.match(name or ""):
        raise InvalidInputError(
            f"{name!r} is not a valid image-set name",
            "use 1-64 letters, digits, '-' or '_', starting and ending with a letter or digit")
    return name


def collection_name(set_name: str, model: ClipModel) -> str:
    """``clip.<set>.<model>.<hash of the weights>``: 3-512 chars of [a-zA-Z0-9._-]."""
    check_set_name(set_name)
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", model.name).strip("-").lower() or "model"
    digest = hashlib.sha1(model.fingerprint.encode()).hexdigest()[:8]
    return f"{COLLECTION_PREFIX}.{set_name}.{slug}.{digest}"


def item_id(path: Path, suffix: str = "") -> str:
    return hashlib.sha1(f"{Path(path).resolve()}{suffix}".encode()).hexdigest()[:32]


_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def client(settings: Any):
    """One Chroma client per store (embedded folder or server) per process."""
    from knowledge.chroma_client import open_client

    key = (str(settings.chroma_path), settings.chroma_url or "")
    with _clients_lock:
        if key not in _clients:
            _clients[key] = open_client(settings.chroma_path, settings.chroma_url)
        return _clients[key]


def get_collection(settings: Any, model: ClipModel, set_name: str, *, create: bool = False):
    """The set's collection for ``model``; None if it does not exist and ``create`` is False."""
    name = collection_name(set_name, model)
    chroma = client(settings)
    try:
        if create:
            return chroma.get_or_create_collection(
                name, embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"erica": "clip-image-set", "set": set_name, "model": model.name,
                          "model_label": model.label, "fingerprint": model.fingerprint,
                          "dim": model.dim})
        return chroma.get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb: NotFoundError / ValueError, depending on version
        message = str(exc).lower()
        if not create and ("does not exist" in message or "not found" in message):
            return None
        raise StoreError(f"the image store cannot open collection {name} "
                         f"({type(exc).__name__}: {exc})",
                         f"delete the set (`erica clip index ... --set {set_name} --rebuild`) "
                         "or check the Chroma folder/server") from exc


def list_sets(settings: Any, model: ClipModel | None = None) -> list[SetInfo]:
    """Image sets in the store (for ``model`` only, if given)."""
    out = []
    for col in client(settings).list_collections():
        name = col.name if hasattr(col, "name") else str(col)
        if not name.startswith(COLLECTION_PREFIX + "."):
            continue
        collection = client(settings).get_collection(name, embedding_function=None)
        meta = collection.metadata or {}
        if model is not None and meta.get("fingerprint") != model.fingerprint:
            continue
        out.append(SetInfo(meta.get("set", name), name, meta.get("model_label", "?"),
                           collection.count(), meta.get("kind", "images")))
    return sorted(out, key=lambda s: s.name)


def delete_set(settings: Any, model: ClipModel, set_name: str) -> bool:
    from knowledge.chroma_client import writer_lock

    name = collection_name(set_name, model)
    with writer_lock(settings.data_dir):
        try:
            client(settings).delete_collection(name)
            return True
        except Exception:  # noqa: BLE001 - absent already
            return False


# --------------------------------------------------------------------------- hashing


def _existing(collection: Any, ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for i in range(0, len(ids), 1000):
        got = collection.get(ids=ids[i:i + 1000], include=["metadatas"])
        for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            found[id_] = meta or {}
    return found


# --------------------------------------------------------------------------- pipeline


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


# --------------------------------------------------------------------------- indexing


def index_items(settings: Any, model: ClipModel, set_name: str, items: list[Item], *,
                prune: Callable[[dict], bool] | None = None, progress: bool = True,
                on_progress: Progress | None = None, max_mb: float = imgs.MAX_FILE_MB,
                kind: str = "images", batch_size: int = BATCH_SIZE) -> IndexReport:
    """Embed the new or changed ``items`` into the set; ``prune(metadata)`` says which stored
    entries belong to the source being indexed (those whose id is not in ``items`` are
    removed)."""
    from tqdm import tqdm

    from knowledge.chroma_client import writer_lock

    start = time.perf_counter()
    with writer_lock(settings.data_dir):
        collection = get_collection(settings, model, set_name, create=True)
        if kind != "images" and (collection.metadata or {}).get("kind") != kind:
            meta = dict(collection.metadata or {})
            meta["kind"] = kind
            try:
                collection.modify(metadata=meta)
            except Exception:  # noqa: BLE001 - cosmetic
                log.debug("could not tag collection kind", exc_info=True)
        report = IndexReport(set_name, collection.name, model.label)
        existing = _existing(collection, [it.id for it in items])
        todo: list[Item] = []
        touch_ids, touch_metas = [], []
        for item in items:
            old = existing.get(item.id)
            if old is None:
                todo.append(item)
                continue
            same_stat = (old.get("size") == item.metadata.get("size")
                         and old.get("mtime_ns") == item.metadata.get("mtime_ns"))
            if same_stat:
                report.unchanged += 1
                continue
            if item.image is None and old.get("sha256") and item.path.is_file():
                try:
                    digest = sha256_file(item.path)
                except OSError as exc:
                    report.skipped.append((str(item.path), f"cannot be read: {exc}"))
                    continue
                if digest == old.get("sha256"):
                    report.unchanged += 1
                    new_meta = dict(old)
                    new_meta.update({"size": item.metadata.get("size"),
                                     "mtime_ns": item.metadata.get("mtime_ns")})
                    touch_ids.append(item.id)
                    touch_metas.append(new_meta)
                    continue
                item.metadata["sha256"] = digest
            item.metadata["_update"] = True
            todo.append(item)
        if touch_ids:
            collection.update(ids=touch_ids, metadatas=touch_metas)
        for item in todo:
            if item.image is None and "sha256" not in item.metadata and item.path.is_file():
                try:
                    item.metadata["sha256"] = sha256_file(item.path)
                except OSError as exc:
                    log.debug("no hash for %s: %s", item.path, exc)
        bar = tqdm(total=len(todo), desc=f"indexing {set_name}", unit="img",
                   disable=not progress or not todo)
        done = 0
        encode_start = time.perf_counter()
        try:
            for good, emb, metas, skipped in encode_pipelined(model, todo, max_mb=max_mb,
                                                              batch_size=batch_size):
                report.skipped.extend(skipped)
                if good:
                    ids, clean = [], []
                    for item, meta in zip(good, metas, strict=True):
                        updated = meta.pop("_update", False)
                        report.updated += int(bool(updated))
                        report.added += int(not updated)
                        if meta.get("note"):
                            report.notes.append((str(item.path), meta["note"]))
                        ids.append(item.id)
                        clean.append({k: v for k, v in meta.items() if v is not None})
                    for i in range(0, len(ids), UPSERT_CHUNK):
                        collection.upsert(ids=ids[i:i + UPSERT_CHUNK],
                                          embeddings=emb[i:i + UPSERT_CHUNK],
                                          metadatas=clean[i:i + UPSERT_CHUNK])
                report.encoded += len(good)
                done += len(good) + len(skipped)
                bar.update(len(good) + len(skipped))
                if on_progress:
                    on_progress(done, len(todo))
        finally:
            bar.close()
        encode_seconds = time.perf_counter() - encode_start
        if prune is not None:
            keep = {it.id for it in items}
            stale = []
            got = collection.get(include=["metadatas"])
            for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                if id_ not in keep and prune(meta or {}):
                    stale.append(id_)
            for i in range(0, len(stale), 1000):
                collection.delete(ids=stale[i:i + 1000])
            report.removed = len(stale)
        report.total = collection.count()
    for path, reason in report.skipped:
        log.warning("skipped %s: %s", path, reason)
    report.seconds = encode_seconds if report.encoded else time.perf_counter() - start
    return report


def _file_item(path: Path, extra: dict | None = None) -> Item:
    stat = path.stat()
    meta = {"path": str(path.resolve()), "name": path.name, "kind": "image",
            "size": int(stat.st_size), "mtime_ns": int(stat.st_mtime_ns)}
    if extra:
        meta.update(extra)
    return Item(item_id(path), path, meta)


def index_folder(settings: Any, model: ClipModel, set_name: str, folder: Path, *,
                 recursive: bool = True, progress: bool = True,
                 on_progress: Progress | None = None, captions: dict[str, str] | None = None,
                 ) -> IndexReport:
    """Index the images in ``folder`` (and below) into ``set_name``; files removed from the
    folder are removed from the set."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise InvalidInputError(f"{folder} does not exist", "give an existing folder or file")
    if folder.is_file():
        return index_files(settings, model, set_name, [folder], progress=progress,
                           on_progress=on_progress)
    files = list(imgs.iter_image_files(folder, recursive=recursive))
    if not files:
        videos = [p for p in folder.iterdir() if p.suffix.lower() in imgs.VIDEO_SUFFIXES] \
            if folder.is_dir() else []
        fix = "put .jpg/.png/... files in it" + (
            f"; for videos index each file: `erica clip index {videos[0]} --set NAME`"
            if videos else "")
        raise InvalidInputError(f"{folder} contains no image files", fix)
    items = []
    skipped_early = []
    for path in files:
        try:
            extra = {"caption": captions[path.name]} if captions and path.name in captions \
                else None
            items.append(_file_item(path, extra))
        except OSError as exc:
            skipped_early.append((str(path), f"cannot be read: {exc}"))
    root = str(folder.resolve())

    def prune(meta: dict) -> bool:
        return meta.get("kind") == "image" and str(meta.get("path", "")).startswith(
            root.rstrip("/") + "/")

    report = index_items(settings, model, set_name, items, prune=prune, progress=progress,
                         on_progress=on_progress)
    report.skipped[:0] = skipped_early
    return report


def index_files(settings: Any, model: ClipModel, set_name: str, paths: list[Path], *,
                progress: bool = True, on_progress: Progress | None = None,
                max_mb: float = imgs.MAX_FILE_MB) -> IndexReport:
    """Add single image files (uploads) to a set; nothing is removed."""
    items, early = [], []
    for path in paths:
        try:
            items.append(_file_item(Path(path)))
        except OSError as exc:
            early.append((str(path), f"cannot be read: {exc}"))
    report = index_items(settings, model, set_name, items, progress=progress,
                         on_progress=on_progress, max_mb=max_mb)
    report.skipped[:0] = early
    return report


def save_upload(settings: Any, data: bytes, name: str) -> Path:
    """Decode an upload safely and keep it (re-encoded as PNG) under data_dir/clip/uploads."""
    decoded = imgs.decode_bytes(data, name, max_mb=settings.upload_max_mb)
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(settings.data_dir) / "clip" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem)[:40] or "upload"
    path = folder / f"{stem}-{digest}.png"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        decoded.image.save(tmp, format="PNG")
        tmp.replace(path)
    return path


def demo_folder(settings: Any) -> Path:
    return Path(settings.data_dir) / "clip" / "demo"


def ensure_demo_set(settings: Any, model: ClipModel, *, progress: bool = False,
                    on_progress: Progress | None = None) -> IndexReport | None:
    """Write the demo images (first use) and index them as set ``demo`` for ``model``.

    Returns None when the set is already complete (no work done)."""
    from tutor.clip import data

    folder = data.ensure_demo_images(demo_folder(settings))
    captions = data.demo_captions(folder)
    collection = get_collection(settings, model, DEMO_SET)
    if collection is not None and collection.count() == len(captions):
        return None
    return index_folder(settings, model, DEMO_SET, folder, progress=progress,
                        on_progress=on_progress, captions=captions)


def require_set(settings: Any, model: ClipModel, set_name: str):
    """The set's collection, creating the demo set on first use; InvalidInputError if the
    set does not exist or is empty."""
    if set_name == DEMO_SET:
        ensure_demo_set(settings, model)
    collection = get_collection(settings, model, set_name)
    if collection is None or collection.count() == 0:
        known = [s.name for s in list_sets(settings, model)]
        raise InvalidInputError(
            f"image set {set_name!r} does not exist for model {model.label}"
            + (f" (sets: {', '.join(known)})" if known else ""),
            f"index it first: `erica clip index PATH --set {set_name}` (or use --set demo)")
    return collection

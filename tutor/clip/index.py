"""Filling image sets: embed new or changed files into a set's collection, incrementally.

A set is a folder of images, uploads, frames of a video, or the demo set (names and
collections: :mod:`tutor.clip.sets`; batched encoding: :mod:`tutor.clip.encode`). Each file's
id is a hash of its resolved path; its metadata keeps size, mtime and sha256, so re-indexing
skips unchanged files (same size and mtime, or same content), re-embeds changed ones and
removes entries whose files are gone. Unreadable files are skipped with a reason; the rest
continues.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.common.errors import InvalidInputError
from knowledge.common.hashing import sha256_file
from tutor.clip import images as imgs
from tutor.clip.encode import BATCH_SIZE, Item, encode_pipelined
from tutor.clip.models import ClipModel
from tutor.clip.nearest import mark_changed
from tutor.clip.sets import DEMO_SET, demo_folder, get_collection, item_id, list_sets

log = logging.getLogger(__name__)

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


def _existing(collection: Any, ids: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for i in range(0, len(ids), 1000):
        got = collection.get(ids=ids[i:i + 1000], include=["metadatas"])
        for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            found[id_] = meta or {}
    return found


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
        mark_changed(collection)
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


def prune_missing(settings: Any, model: ClipModel, set_name: str) -> int:
    """Remove the set's entries whose files were deleted after indexing; returns how many.

    (Re-indexing the set's folder does the same and also adds new files.)"""
    from knowledge.chroma_client import writer_lock

    with writer_lock(settings.data_dir):
        collection = get_collection(settings, model, set_name)
        if collection is None:
            return 0
        got = collection.get(include=["metadatas"])
        gone = [id_ for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=False)
                if not Path(str((meta or {}).get("path", ""))).is_file()]
        for i in range(0, len(gone), 1000):
            collection.delete(ids=gone[i:i + 1000])
        mark_changed(collection)
    log.info("set %s: removed %d entries whose files are gone", set_name, len(gone))
    return len(gone)

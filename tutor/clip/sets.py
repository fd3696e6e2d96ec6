"""Image sets as Chroma collections: their names, opening, listing and deleting them.

One collection per (set, model): ``clip.<set>.<model>.<hash of the weights>``, so vectors of
two models are never compared. The Chroma client is the process's one client
(:func:`tutor.runtime.chroma`), so resetting the store clears it for images too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.chroma_client import HNSW_CONFIGURATION
from knowledge.common.errors import InvalidInputError, StoreError
from tutor.clip.models import ClipModel

COLLECTION_PREFIX = "clip"
SET_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$")
DEMO_SET = "demo"


@dataclass
class SetInfo:
    name: str
    collection: str
    model: str
    count: int
    kind: str


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


def demo_folder(settings: Any) -> Path:
    return Path(settings.data_dir) / "clip" / "demo"


def client(settings: Any):
    """The process's Chroma client for the settings' store (shared with the concept store)."""
    from tutor import runtime

    return runtime.chroma(settings)


def get_collection(settings: Any, model: ClipModel, set_name: str, *, create: bool = False):
    """The set's collection for ``model``; None if it does not exist and ``create`` is False."""
    name = collection_name(set_name, model)
    chroma = client(settings)
    try:
        if create:
            collection = chroma.get_or_create_collection(
                name, embedding_function=None, configuration=HNSW_CONFIGURATION,
                metadata={"erica": "clip-image-set", "set": set_name, "model": model.name,
                          "model_label": model.label, "fingerprint": model.fingerprint,
                          "dim": model.dim})
        else:
            collection = chroma.get_collection(name, embedding_function=None)
    except Exception as exc:  # chromadb: NotFoundError / ValueError, depending on version
        message = str(exc).lower()
        if not create and ("does not exist" in message or "not found" in message):
            return None
        raise StoreError(f"the image store cannot open collection {name} "
                         f"({type(exc).__name__}: {exc})",
                         f"delete the set (`erica clip index ... --set {set_name} --rebuild`) "
                         "or check the Chroma folder/server") from exc
    return collection


def list_sets(settings: Any, model: ClipModel | None = None) -> list[SetInfo]:
    """Image sets in the store (for ``model`` only, if given)."""
    out = []
    chroma = client(settings)
    for col in chroma.list_collections():
        name = col.name if hasattr(col, "name") else str(col)
        if not name.startswith(COLLECTION_PREFIX + "."):
            continue
        collection = chroma.get_collection(name, embedding_function=None)
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

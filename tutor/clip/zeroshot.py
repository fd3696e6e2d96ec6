"""Zero-shot labels: prompts from templates, averaged per label (the CLIP paper's prompt
ensembling), softmax over ``logit_scale * cosine``.

Template sets: ``clip-80`` is the 80-template ImageNet ensemble of the CLIP paper (shipped in
open_clip), ``clip-18`` the shorter list open_clip also ships, ``photo`` the single
"a photo of a {}." prompt, ``raw`` the label as typed, ``scenes`` prompts in the style of
mini-CLIP's training captions. ``default_template_set(model)`` picks ``scenes`` for mini-CLIP
and ``clip-80`` for pretrained models.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.common.errors import InvalidInputError
from tutor.clip.models import MINI_CLIP, ClipModel

log = logging.getLogger(__name__)

MAX_LABELS = 1000
MAX_LABEL_CHARS = 200
MAX_PROMPTS = 4000  # labels x templates above this fall back to the one-template set
FALLBACK_SET = "photo"


def _open_clip_templates(attr: str) -> tuple[str, ...]:
    from open_clip import zero_shot_metadata

    return tuple(t("{}") for t in getattr(zero_shot_metadata, attr))


def template_sets() -> dict[str, tuple[str, ...]]:
    """Name -> templates with one ``{}`` for the label."""
    return {
        "clip-80": _open_clip_templates("OPENAI_IMAGENET_TEMPLATES"),
        "clip-18": _open_clip_templates("SIMPLE_IMAGENET_TEMPLATES"),
        "photo": ("a photo of a {}.",),
        "raw": ("{}",),
        "scenes": ("a {}", "a picture of a {}", "a drawing of a {}"),
    }


TEMPLATE_SET_NAMES = ("clip-80", "clip-18", "photo", "raw", "scenes")


def default_template_set(model: ClipModel) -> str:
    return "scenes" if model.name == MINI_CLIP else "clip-80"


def parse_labels(labels: str | list[str]) -> list[str]:
    """Split on commas/newlines, strip, drop empties and duplicates (case-insensitive)."""
    raw = labels if isinstance(labels, list) else re.split(r"[,\n;]", labels or "")
    out, seen = [], set()
    for label in raw:
        label = " ".join(str(label).split())
        if not label or label.lower() in seen:
            continue
        if len(label) > MAX_LABEL_CHARS:
            raise InvalidInputError(f"the label {label[:40]!r}... has {len(label)} characters",
                                    f"keep labels under {MAX_LABEL_CHARS} characters")
        seen.add(label.lower())
        out.append(label)
    if not out:
        raise InvalidInputError("no labels given",
                                'give at least two labels, e.g. --labels "cat, dog, car"')
    if len(out) > MAX_LABELS:
        raise InvalidInputError(f"{len(out)} labels given, more than {MAX_LABELS}",
                                f"use at most {MAX_LABELS} labels")
    return out


@dataclass
class LabelResult:
    """Softmax probabilities of the labels for one image, best first."""

    labels: list[tuple[str, float]]  # (label, probability), sorted
    cosines: dict[str, float]
    template_set: str
    templates: int
    model: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"label": label, "prob": round(float(p), 6)} for label, p in self.labels]


class _PromptCache:
    """Label embeddings per (model, template set, label): the UI asks for the same labels
    again and again, and 80 templates per label are the slow part."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.data: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> np.ndarray | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: tuple, value: np.ndarray) -> None:
        with self.lock:
            self.data[key] = value
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_cache = _PromptCache()


def label_embeddings(model: ClipModel, labels: list[str], template_set: str) -> np.ndarray:
    """(n_labels, dim) unit vectors: the mean of each label's prompt embeddings."""
    sets = template_sets()
    if template_set not in sets:
        raise InvalidInputError(f"unknown template set {template_set!r}",
                                f"use one of: {', '.join(TEMPLATE_SET_NAMES)}")
    templates = sets[template_set]
    out = np.zeros((len(labels), model.dim), np.float32)
    missing = []
    for i, label in enumerate(labels):
        cached = _cache.get((model.fingerprint, template_set, label))
        if cached is None:
            missing.append(i)
        else:
            out[i] = cached
    if missing:
        prompts = [t.format(labels[i]) for i in missing for t in templates]
        emb = model.embed_texts(prompts).reshape(len(missing), len(templates), -1).mean(axis=1)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        for j, i in enumerate(missing):
            out[i] = emb[j]
            _cache.put((model.fingerprint, template_set, labels[i]), emb[j])
    return out


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def label_image(model: ClipModel, image: Any, labels: str | list[str],
                template_set: str | None = None) -> LabelResult:
    """Zero-shot classification of one image (PIL image or unit vector) among ``labels``."""
    labels = parse_labels(labels)
    template_set = template_set or default_template_set(model)
    notes = []
    sets = template_sets()
    if template_set in sets and len(labels) * len(sets[template_set]) > MAX_PROMPTS:
        notes.append(f"{len(labels)} labels x {len(sets[template_set])} templates is too many "
                     f"prompts: used the one-template set {FALLBACK_SET!r}")
        template_set = FALLBACK_SET
    if len(labels) == 1:
        notes.append("one label always gets probability 1: add alternatives to compare")
    text = label_embeddings(model, labels, template_set)
    vector = image if isinstance(image, np.ndarray) else model.embed_images([image])[0]
    cosines = text @ vector
    probs = softmax(model.logit_scale * cosines)
    order = np.argsort(-probs, kind="stable")
    return LabelResult([(labels[i], float(probs[i])) for i in order],
                       {labels[i]: float(cosines[i]) for i in order}, template_set,
                       len(sets[template_set]), model.label, notes)

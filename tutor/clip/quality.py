"""What the CLIP lab shows a class, measured on a loaded model (``erica bench clip``).

* held-out compositional zero-shot: drawn scenes of the colour-shape pairs that never occur in
  training (:data:`tutor.clip.data.HELD_OUT_PAIRS`), classified among all 36 colour x shape
  prompts (and the seen pairs beside them);
* text-to-image search on the demo set: for 21 colour-shape queries ("red circles", all six
  held-out pairs among them) the share of the top 3 that show such an object (precision@3;
  exact cosine ranking, as the demo set is small);
* localisation: on generated two-object scenes, whether the best sliding-window patch for
  each object's phrase contains that object's centre (:func:`tutor.clip.localize.localize`
  with its defaults). A third of the scenes share the colour ("a red cross and a red star"),
  a third the shape.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tutor.clip import data
from tutor.clip.models import ClipModel

ZERO_SHOT_TEMPLATES = ("a {}", "a picture of a {}", "a drawing of a {}")
ZERO_SHOT_SEED = 424242
LOCALISE_SEED = 515151
IMAGE_SIZE = 160  # the demo set's size: the resize to the model's input happens as in use

SEARCH_PAIRS: tuple[tuple[str, str], ...] = (
    ("red", "circle"), *data.HELD_OUT_PAIRS,
    ("blue", "square"), ("green", "circle"), ("yellow", "star"), ("purple", "square"),
    ("orange", "triangle"), ("red", "star"), ("blue", "diamond"), ("green", "cross"),
    ("yellow", "triangle"), ("purple", "diamond"), ("orange", "circle"), ("red", "cross"),
    ("blue", "star"), ("green", "square"),
)


def _plural(shape: str) -> str:
    return shape + "es" if shape.endswith("s") else shape + "s"


def class_embeddings(model: ClipModel) -> tuple[list[tuple[str, str]], np.ndarray]:
    """All colour x shape classes and their prompt-ensemble text vectors."""
    classes = data.all_pairs()
    prompts = [t.format(f"{c} {s}") for c, s in classes for t in ZERO_SHOT_TEMPLATES]
    emb = model.embed_texts(prompts).reshape(len(classes), len(ZERO_SHOT_TEMPLATES), -1)
    emb = emb.mean(axis=1)
    return classes, emb / np.linalg.norm(emb, axis=1, keepdims=True)


def zero_shot(model: ClipModel, n_images: int = 360) -> dict[str, Any]:
    """Top-1 over the 36 colour-shape prompts, on held-out and on seen pairs."""
    classes, class_emb = class_embeddings(model)
    out: dict[str, Any] = {"classes": len(classes), "chance": 1 / len(classes)}
    for offset, (split, pairs) in enumerate((("held_out", list(data.HELD_OUT_PAIRS)),
                                             ("seen", data.seen_pairs()))):
        rng = np.random.default_rng(ZERO_SHOT_SEED + offset)
        images, truth = data.zero_shot_eval_set(rng, pairs, n_images, IMAGE_SIZE)
        guessed = [classes[i] for i in (model.embed_images(images) @ class_emb.T).argmax(1)]
        out[f"{split}_top1"] = float(np.mean([g == t for g, t in zip(guessed, truth,
                                                                      strict=True)]))
        out[f"{split}_shape_acc"] = float(np.mean([g[1] == t[1] for g, t in
                                                   zip(guessed, truth, strict=True)]))
        out[f"{split}_colour_acc"] = float(np.mean([g[0] == t[0] for g, t in
                                                    zip(guessed, truth, strict=True)]))
    out["images_per_split"] = n_images
    return out


def search_precision(model: ClipModel, folder: Path | None = None, k: int = 3
                     ) -> dict[str, Any]:
    """Precision@k of colour-shape queries over the demo set (written to ``folder``)."""
    with tempfile.TemporaryDirectory(prefix="erica-demo-") as tmp:
        folder = data.ensure_demo_images(Path(folder or tmp))
        objects = data.demo_objects(folder)
        names = sorted(objects)
        from PIL import Image

        images = []
        for name in names:
            with Image.open(folder / name) as im:
                images.append(im.convert("RGB"))
        vectors = model.embed_images(images)
    queries = [f"{c} {_plural(s)}" for c, s in SEARCH_PAIRS]
    scores = vectors @ model.embed_texts(queries).T
    per_query = {}
    for j, ((colour, shape), query) in enumerate(zip(SEARCH_PAIRS, queries, strict=True)):
        top = np.argsort(-scores[:, j])[:k]
        per_query[query] = float(np.mean([f"{colour} {shape}" in objects[names[i]]
                                          for i in top]))
    return {"queries": len(queries), "k": k, "images": len(names),
            "precision": float(np.mean(list(per_query.values()))),
            "worst": sorted(per_query.items(), key=lambda kv: kv[1])[:3],
            "per_query": per_query}


def two_object_scene(rng: np.random.Generator, i: int) -> data.Scene:
    """Two objects apart; scene ``i % 3``: same colour, same shape, or both different."""
    a = data.all_pairs()[int(rng.integers(36))]
    while True:
        b = data.all_pairs()[int(rng.integers(36))]
        if b != a and ((i % 3 == 0 and b[0] == a[0]) or (i % 3 == 1 and b[1] == a[1])
                       or (i % 3 == 2 and b[0] != a[0] and b[1] != a[1])):
            break
    size = 0.3 * float(rng.uniform(0.85, 1.1))
    d = float(rng.uniform(0.22, 0.3))
    cx, cy = 0.5 + rng.normal(0, 0.04), 0.5 + rng.normal(0, 0.04)
    horizontal = rng.random() < 0.5
    pa, pb = ((cx - d, cy), (cx + d, cy)) if horizontal else ((cx, cy - d), (cx, cy + d))
    textures = [data.TEXTURES[int(rng.integers(len(data.TEXTURES)))] for _ in range(2)]
    objects = [data.ObjectSpec(p[0], p[1], t, float(q[0]), float(q[1]), size,
                               float(rng.normal(0, 0.15)))
               for p, t, q in zip((a, b), textures, (pa, pb), strict=True)]
    return data.Scene(objects, f"a {a[0]} {a[1]} and a {b[0]} {b[1]}", "pair")


def localisation(model: ClipModel, n_scenes: int = 60) -> dict[str, Any]:
    """Share of (scene, object) where the best patch for "a <colour> <shape>" holds the
    object's centre."""
    from tutor.clip.localize import localize

    rng = np.random.default_rng(LOCALISE_SEED)
    hits, kinds = [], {"same colour": [], "same shape": [], "different": []}
    for i in range(n_scenes):
        scene = two_object_scene(rng, i)
        image = data.render_scene(scene, IMAGE_SIZE, rng)
        for obj in scene.objects:
            phrase = f"a {obj.colour} {obj.shape}".replace("a orange", "an orange")
            x0, y0, x1, y1 = localize(model, image, phrase).best_box
            hit = x0 <= obj.x * IMAGE_SIZE < x1 and y0 <= obj.y * IMAGE_SIZE < y1
            hits.append(hit)
            kinds[("same colour", "same shape", "different")[i % 3]].append(hit)
    return {"scenes": n_scenes, "phrases": len(hits), "rate": float(np.mean(hits)),
            **{f"rate {k}": float(np.mean(v)) for k, v in kinds.items() if v}}

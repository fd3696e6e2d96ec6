"""Where in an image does a phrase score highest? Slide overlapping square patches over the
image, embed each, score it against the phrase, and average the scores of the patches that
cover each pixel (the "zero-shot object localisation" of lecture 001)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from knowledge.common.errors import InvalidInputError
from tutor.clip.models import ClipModel

MAX_SIDE = 512  # the image is shrunk to this before patches are cut
MAX_PATCHES = 400


@dataclass
class LocalizeResult:
    phrase: str
    heatmap: np.ndarray  # (h, w) in [0, 1] at the (shrunk) image size
    boxes: list[tuple[int, int, int, int]]  # patches (x0, y0, x1, y1)
    scores: np.ndarray  # cosine of each patch with the phrase
    image: Image.Image  # the (shrunk) image the boxes refer to
    model: str

    @property
    def best_box(self) -> tuple[int, int, int, int]:
        return self.boxes[int(np.argmax(self.scores))]


def patch_boxes(width: int, height: int, patch: int, stride: int) -> list[tuple]:
    def starts(total: int) -> list[int]:
        if patch >= total:
            return [0]
        out = list(range(0, total - patch + 1, stride))
        if out[-1] != total - patch:
            out.append(total - patch)
        return out

    return [(x, y, min(x + patch, width), min(y + patch, height))
            for y in starts(height) for x in starts(width)]


def localize(model: ClipModel, image: Image.Image, phrase: str, *, patch_fraction: float = 0.4,
             overlap: float = 0.5) -> LocalizeResult:
    """Heatmap of ``phrase`` over ``image``; patches are ``patch_fraction`` of the shorter side
    and overlap by ``overlap`` (0.5 = half a patch)."""
    phrase = " ".join((phrase or "").split())
    if not phrase:
        raise InvalidInputError("the phrase to locate is empty", 'type a phrase, e.g. "a cat"')
    if not 0.1 <= patch_fraction <= 1.0 or not 0.0 <= overlap < 0.95:
        raise InvalidInputError("patch size must be 0.1-1 of the image and overlap 0-0.95",
                                "use the defaults (0.4 and 0.5)")
    image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    width, height = image.size
    patch = max(8, int(min(width, height) * patch_fraction))
    stride = max(1, int(patch * (1 - overlap)))
    boxes = patch_boxes(width, height, patch, stride)
    while len(boxes) > MAX_PATCHES:
        stride = int(stride * 1.25) + 1
        boxes = patch_boxes(width, height, patch, stride)
    crops = [image.crop(box) for box in boxes]
    vectors = model.embed_images(crops)
    text = model.embed_texts([phrase])[0]
    scores = vectors @ text
    total = np.zeros((height, width), np.float64)
    count = np.zeros((height, width), np.float64)
    for (x0, y0, x1, y1), s in zip(boxes, scores, strict=True):
        total[y0:y1, x0:x1] += s
        count[y0:y1, x0:x1] += 1
    heat = total / np.maximum(count, 1)
    low, high = heat[count > 0].min(), heat[count > 0].max()
    heat = (heat - low) / (high - low) if high > low else np.zeros_like(heat)
    return LocalizeResult(phrase, heat.astype(np.float32), boxes, scores, image, model.label)


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> RGB uint8 (a blue-cyan-yellow-red ramp)."""
    stops = np.array([[0, 0, 128], [0, 128, 255], [0, 230, 230], [255, 230, 0], [220, 0, 0]],
                     dtype=np.float64)
    pos = np.clip(values, 0, 1) * (len(stops) - 1)
    i = np.minimum(pos.astype(int), len(stops) - 2)
    t = (pos - i)[..., None]
    return (stops[i] * (1 - t) + stops[i + 1] * t).astype(np.uint8)


def overlay(result: LocalizeResult, alpha: float = 0.5) -> Image.Image:
    """The image with the heatmap blended over it and the best patch outlined."""
    from PIL import ImageDraw

    heat = Image.fromarray(colormap(result.heatmap), "RGB")
    blended = Image.blend(result.image, heat, alpha)
    draw = ImageDraw.Draw(blended)
    draw.rectangle(result.best_box, outline=(255, 255, 255), width=3)
    return blended

"""The image x caption similarity matrix of the lectures: CLIP is trained so that the
diagonal (each image with its own caption) is the largest entry of its row and column."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.common.errors import InvalidInputError
from tutor.clip import images as imgs
from tutor.clip.models import ClipModel

MAX_SIDE = 32  # images or captions in one matrix


@dataclass
class SimilarityResult:
    images: list[str]  # names or paths
    captions: list[str]
    matrix: np.ndarray  # cosines, images x captions
    model: str

    @property
    def diagonal_hits(self) -> int:
        """Rows whose own caption (the diagonal) scores highest (square matrices)."""
        n = min(self.matrix.shape)
        return int(sum(int(np.argmax(self.matrix[i])) == i for i in range(n)))

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "images": self.images, "captions": self.captions,
                "matrix": [[round(float(v), 4) for v in row] for row in self.matrix]}

    def to_text(self) -> str:
        width = max(6, *(len(c[:18]) for c in self.captions))
        head = " " * 22 + " ".join(c[:18].rjust(width) for c in self.captions)
        lines = [head]
        for i, name in enumerate(self.images):
            cells = []
            for j, v in enumerate(self.matrix[i]):
                cell = f"{v:.3f}"
                cell = f"[{cell}]" if i == j else f" {cell} "
                cells.append(cell.rjust(width))
            lines.append(Path(name).name[:20].ljust(22) + " ".join(cells))
        return "\n".join(lines)


def similarity_matrix(model: ClipModel, images: list[Any], captions: list[str],
                      names: list[str] | None = None) -> SimilarityResult:
    """Cosines of every image (PIL image or path) with every caption."""
    if not images or not captions:
        raise InvalidInputError("a similarity matrix needs at least one image and one caption",
                                "give images and captions (or use the demo pairs)")
    if len(images) > MAX_SIDE or len(captions) > MAX_SIDE:
        raise InvalidInputError(f"at most {MAX_SIDE} images and {MAX_SIDE} captions",
                                "choose fewer")
    captions = [" ".join(str(c).split()) for c in captions]
    if any(not c for c in captions):
        raise InvalidInputError("a caption is empty", "write a caption for every image")
    pil, labels = [], []
    for i, image in enumerate(images):
        if isinstance(image, str | Path):
            pil.append(imgs.decode_file(Path(image)).image)
            labels.append(str(image))
        else:
            pil.append(image)
            labels.append(names[i] if names else f"image {i + 1}")
    matrix = model.embed_images(pil) @ model.embed_texts(captions).T
    return SimilarityResult(labels, captions, matrix, model.label)


def demo_pairs(settings: Any, n: int = 6) -> tuple[list[Path], list[str]]:
    """``n`` demo images with their captions: photos and drawn scenes mixed."""
    from tutor.clip import data
    from tutor.clip.sets import demo_folder

    folder = data.ensure_demo_images(demo_folder(settings))
    captions = data.demo_captions(folder)
    photos = [k for k in sorted(captions) if k.startswith("photo_")]
    scenes = [k for k in sorted(captions) if k.startswith("scene_")]
    preferred = [p for p in ("photo_chelsea.jpg", "photo_astronaut.jpg", "photo_horse.jpg",
                             "photo_coffee.jpg", "photo_rocket.jpg") if p in captions]
    chosen = preferred[: max(1, n // 2)]
    chosen += [s for s in scenes if s not in chosen][: n - len(chosen)]
    chosen += [p for p in photos if p not in chosen][: n - len(chosen)]
    return [folder / name for name in chosen], [captions[name] for name in chosen]

"""Localisation by sliding patches, and the similarity matrix."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.common.errors import InvalidInputError
from tests.clip.conftest import scene_image, two_objects
from tutor.clip import localize, similarity


def test_patch_boxes_cover_the_image_with_overlap():
    boxes = localize.patch_boxes(100, 60, 40, 20)
    assert boxes[0] == (0, 0, 40, 40) and boxes[-1] == (60, 20, 100, 60)
    covered = np.zeros((60, 100), bool)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered.all()


def test_localize_finds_the_object_side(mini_model):
    image = two_objects(256)  # red circle on the left, blue square on the right
    red = localize.localize(mini_model, image, "a red circle", patch_fraction=0.45)
    blue = localize.localize(mini_model, image, "a blue square", patch_fraction=0.45)
    assert red.heatmap.shape == (256, 256)
    assert red.heatmap.min() >= 0.0 and red.heatmap.max() == pytest.approx(1.0)
    cx_red = (red.best_box[0] + red.best_box[2]) / 2
    cx_blue = (blue.best_box[0] + blue.best_box[2]) / 2
    assert cx_red < 128 < cx_blue
    assert red.heatmap[:, :100].mean() > red.heatmap[:, 156:].mean()
    assert localize.overlay(red).size == image.size
    with pytest.raises(InvalidInputError):
        localize.localize(mini_model, image, "  ")


def test_similarity_matrix_diagonal(mini_model):
    pairs = [("red", "circle"), ("blue", "square"), ("yellow", "star"), ("green", "cross")]
    images = [scene_image(c, s) for c, s in pairs]
    captions = [f"a {c} {s}" for c, s in pairs]
    result = similarity.similarity_matrix(mini_model, images, captions)
    assert result.matrix.shape == (4, 4)
    assert result.diagonal_hits >= 3
    text = result.to_text()
    assert "[" in text and "a red circle"[:18] in text
    assert result.to_json()["matrix"][0][0] == pytest.approx(result.matrix[0, 0], abs=1e-4)
    with pytest.raises(InvalidInputError):
        similarity.similarity_matrix(mini_model, [], ["x"])

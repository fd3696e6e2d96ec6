"""The chat's CLIP demos: /images, /labels and natural requests."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from knowledge.common.errors import InvalidInputError
from tests.clip.conftest import scene_image
from tutor.clip import demo


@pytest.mark.parametrize(("message", "expected"), [
    ("/images red circles", ("search", "red circles")),
    ("/IMAGES  a horse ", ("search", "a horse")),
    ("/labels cat, dog, car", ("labels", "cat, dog, car")),
    ("show me how CLIP finds pictures of a horse", ("search", "a horse")),
    ("Can CLIP find images of red circles?", ("search", "red circles")),
    ("demonstrate clip searching for photos of a cup of coffee.", ("search", "a cup of coffee")),
    ("What is CLIP?", None),
    ("How does contrastive learning work?", None),
    ("", None),
])
def test_parse_request(message, expected):
    assert demo.parse_request(message) == expected


def test_chat_demo_search(demo_indexed):
    result = demo.chat_demo("show me how CLIP finds pictures of a horse", demo_indexed)
    assert result is not None and result.kind == "search" and result.query == "a horse"
    assert result.image_set == "demo" and result.score_kind == "cosine"
    assert Path(result.results[0].image_path).name == "photo_horse.jpg"
    assert "mini-clip" in result.model and result.explanation and result.concept_query
    assert demo.chat_demo("What is a neural network?", demo_indexed) is None


def test_chat_demo_labels(demo_indexed):
    buf = io.BytesIO()
    scene_image("green", "circle").save(buf, format="PNG")
    result = demo.chat_demo("/labels green circle, red square, yellow star", demo_indexed,
                            image_bytes=buf.getvalue())
    assert result.kind == "labels" and result.score_kind == "probability"
    assert result.results[0].label == "green circle"
    assert sum(r.score for r in result.results) == pytest.approx(1.0)
    assert result.image.size == (160, 160)  # the labelled image, shown in the reply
    natural = demo.chat_demo("classify this image as a green circle or a red square",
                             demo_indexed, image_bytes=buf.getvalue())
    assert natural is not None and natural.kind == "labels"
    with pytest.raises(InvalidInputError, match="needs an image"):
        demo.chat_demo("/labels cat, dog", demo_indexed)
    with pytest.raises(InvalidInputError, match="no labels"):
        demo.chat_demo("/labels  ", demo_indexed, image_bytes=buf.getvalue())
    with pytest.raises(InvalidInputError, match="not an image"):
        demo.chat_demo("/labels a, b", demo_indexed, image_bytes=b"hello")


def test_concept_ids_exist_in_the_shipped_course():
    import yaml

    from tutor.settings import SHIPPED_COURSE

    ids = set()
    for path in SHIPPED_COURSE.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = doc.get("cards", []) if isinstance(doc, dict) else doc
        ids.update(c["id"] for c in items if isinstance(c, dict) and "id" in c)
    assert set(demo.SEARCH_CONCEPTS) <= ids and set(demo.LABEL_CONCEPTS) <= ids

"""Generated training data: compositional captions, held-out pairs, the demo set."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tutor.clip import data


def test_held_out_pairs_cover_every_colour_and_shape_once():
    colours = [c for c, _ in data.HELD_OUT_PAIRS]
    shapes = [s for _, s in data.HELD_OUT_PAIRS]
    assert sorted(colours) == sorted(data.COLOURS)
    assert sorted(shapes) == sorted(data.SHAPES)


def test_training_batches_never_show_a_held_out_pair():
    rng = np.random.default_rng(0)
    held = set(data.HELD_OUT_PAIRS)
    for _ in range(3):
        images, captions = data.training_batch(rng, 64, size=64, single_fraction=0.3,
                                               empty_fraction=0.05, twin_fraction=0.5)
        assert len(images) == len(captions) == 64
        for caption in captions:
            for colour, shape in held:
                # "red triangle", "red triangles", "striped red triangle" ... never
                assert not re.search(rf"\b{colour} {shape}", caption), caption


def test_scene_objects_respect_the_exclusion():
    rng = np.random.default_rng(3)
    held = set(data.HELD_OUT_PAIRS)
    for _ in range(300):
        scene = data.random_scene(rng, frozenset(held))
        assert all((o.colour, o.shape) not in held for o in scene.objects)


def test_captions_are_compositional():
    rng = np.random.default_rng(4)
    captions = [data.random_scene(rng).caption for _ in range(400)]
    text = " ".join(captions)
    for word in ("two", "three", "striped", "dotted", "checkered", "left of", "above",
                 "on the left", "at the top", "crosses"):
        assert word in text, word
    assert "crosss" not in text


def test_rendering_is_deterministic():
    scene = data.group_scene(np.random.default_rng(5))
    a = data.render_scene(scene, 96, np.random.default_rng(9))
    b = data.render_scene(scene, 96, np.random.default_rng(9))
    assert a.tobytes() == b.tobytes() and a.size == (96, 96) and a.mode == "RGB"


def test_photos_ship_with_scikit_image():
    names = data.available_photos()
    assert {"astronaut", "chelsea", "coffee", "rocket", "horse"} <= set(names)
    horse = data.load_photo("horse")
    # the silhouette is dark on a light background
    arr = np.asarray(horse.convert("L"))
    assert arr[0, 0] > 200 and arr.mean() > 100


def test_twins_differ_in_exactly_one_attribute():
    rng = np.random.default_rng(6)
    held = frozenset(data.HELD_OUT_PAIRS)
    seen = 0
    for _ in range(200):
        scene = data.group_scene(rng, held) if rng.random() < 0.5 else \
            data.single_scene(rng, held)
        twin = data.twin_scene(scene, rng, held)
        if twin is None:
            continue
        seen += 1
        a, b = scene.objects[0], twin.objects[0]
        assert (a.colour != b.colour) + (a.shape != b.shape) == 1
        assert (b.colour, b.shape) not in held
        assert (a.texture, a.x, a.y, a.size) == (b.texture, b.x, b.y, b.size)
        assert twin.caption != scene.caption
        assert len(twin.caption.split()) == len(scene.caption.split())
    assert seen > 150


def test_empty_and_single_scenes():
    rng = np.random.default_rng(8)
    empty = data.empty_scene(rng)
    assert not empty.objects and empty.caption in data.EMPTY_CAPTIONS
    image = np.asarray(data.render_scene(empty, 64, rng), dtype=float)
    assert image.min() > 180  # background only
    sizes = [data.single_scene(rng).objects[0].size for _ in range(200)]
    assert min(sizes) < 0.4 and max(sizes) > 0.8  # small to filling the image


def test_demo_images_written_once(tmp_path: Path):
    folder = data.ensure_demo_images(tmp_path / "demo", n_scenes=6)
    captions = data.demo_captions(folder)
    assert len([n for n in captions if n.startswith("scene_")]) == 6
    assert "photo_chelsea.jpg" in captions
    stamp = (folder / "scene_000.png").stat().st_mtime_ns
    data.ensure_demo_images(folder, n_scenes=6)
    assert (folder / "scene_000.png").stat().st_mtime_ns == stamp


def test_demo_set_shows_every_pair_at_least_three_times():
    rng = np.random.default_rng(data.DEMO_SEED)
    counts = {f"{c} {s}": 0 for c, s in data.all_pairs()}
    for i in range(data.DEMO_SCENES):
        for pair in {f"{o.colour} {o.shape}" for o in data.demo_scene(i, rng).objects}:
            counts[pair] += 1
    assert min(counts.values()) >= 3, counts

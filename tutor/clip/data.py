"""Image-caption pairs that Erica makes itself: drawn scenes and scikit-image's sample photos.

Scenes are drawn procedurally with compositional captions ("two striped red circles on the
left", "a blue star left of a yellow square"): colours x shapes x textures x positions x
counts. :data:`HELD_OUT_PAIRS` lists colour-shape pairs that never appear in training; the
zero-shot test asks the trained model to recognise exactly those (see :mod:`tutor.clip.train`).

scikit-image ships ~25 real photos inside its wheel (no download): they get captions written
here, so the demo image set has real photos too (their captions *are* in the training data,
so finding them is recall, not zero-shot).

Everything is deterministic given a ``numpy.random.Generator``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (35, 160, 55),
    "blue": (35, 75, 215),
    "yellow": (240, 205, 30),
    "purple": (135, 55, 175),
    "orange": (245, 135, 25),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross", "diamond")
TEXTURES: tuple[str, ...] = ("plain", "striped", "dotted", "checkered")
POSITIONS: dict[str, tuple[float, float]] = {  # name -> centre of the region (x, y) in [0, 1]
    "left": (0.25, 0.5),
    "right": (0.75, 0.5),
    "top": (0.5, 0.25),
    "bottom": (0.5, 0.75),
    "middle": (0.5, 0.5),
}
POSITION_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("on the left", "at the left"),
    "right": ("on the right", "at the right"),
    "top": ("at the top", "on top"),
    "bottom": ("at the bottom", "in the lower half"),
    "middle": ("in the middle", "in the centre"),
}
COUNT_WORDS = {1: "one", 2: "two", 3: "three"}
RELATIONS = ("left of", "right of", "above", "below", "and")

# Each colour and each shape is held out exactly once (a Latin-square diagonal), so every word
# is seen in training, but these combinations are not.
HELD_OUT_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (colour, SHAPES[(i + 2) % len(SHAPES)]) for i, colour in enumerate(COLOURS)
)

# scikit-image sample photos that ship inside the wheel, with captions written for Erica.
PHOTO_CAPTIONS: dict[str, tuple[str, ...]] = {
    "astronaut": ("a photo of an astronaut", "an astronaut in a space suit",
                  "a smiling woman astronaut with a flag"),
    "chelsea": ("a photo of a cat", "an orange tabby cat", "a cat looking at the camera"),
    "coffee": ("a photo of a cup of coffee", "a coffee cup on a saucer", "a cup of coffee"),
    "rocket": ("a photo of a rocket", "a rocket on the launch pad", "a space rocket"),
    "horse": ("a horse", "a black silhouette of a horse", "a drawing of a horse"),
    "camera": ("a black and white photo of a man with a camera", "a photographer with a camera",
               "a man with a camera"),
    "coins": ("old coins", "a photo of coins", "a grey photo of many coins"),
    "moon": ("the surface of the moon", "a photo of the moon", "moon craters"),
    "hubble_deep_field": ("galaxies in deep space", "a photo of stars and galaxies",
                          "the hubble deep field"),
    "page": ("a page of printed text", "a scanned page of a book", "printed text"),
    "brick": ("a brick wall", "a photo of bricks", "a wall of bricks"),
    "grass": ("grass", "a photo of green grass", "a lawn of grass"),
    "gravel": ("gravel", "a photo of small stones", "a pile of gravel"),
    "clock": ("a clock", "a photo of a clock", "a wall clock"),
    "retina": ("a photo of a retina", "the back of a human eye", "a retina scan"),
    "cell": ("cells under a microscope", "a microscope image of a cell", "a living cell"),
    "immunohistochemistry": ("a stained tissue sample", "a microscope slide of tissue",
                             "a stained tissue sample under a microscope"),
}


@dataclass(frozen=True)
class ObjectSpec:
    colour: str
    shape: str
    texture: str
    x: float  # centre, fraction of the width
    y: float  # centre, fraction of the height
    size: float  # fraction of the image side
    angle: float = 0.0


@dataclass
class Scene:
    """One drawn scene: its objects and a caption that describes them."""

    objects: list[ObjectSpec]
    caption: str
    kind: str = "group"  # group | pair
    labels: dict[str, str] = field(default_factory=dict)  # colour/shape/... of the group

    def to_json(self) -> dict:
        return {"caption": self.caption, "kind": self.kind, "labels": self.labels,
                "objects": [asdict(o) for o in self.objects]}


# --------------------------------------------------------------------------- drawing


def _shape_points(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple]:
    def rot(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        c, s = math.cos(angle), math.sin(angle)
        return [(cx + px * c - py * s, cy + px * s + py * c) for px, py in points]

    if shape == "square":
        k = r * 0.85
        return rot([(-k, -k), (k, -k), (k, k), (-k, k)])
    if shape == "diamond":
        return rot([(0, -r), (r * 0.7, 0), (0, r), (-r * 0.7, 0)])
    if shape == "triangle":
        return rot([(r * math.cos(a), r * math.sin(a))
                    for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)])
    if shape == "star":
        pts = []
        for i in range(10):
            rad = r if i % 2 == 0 else r * 0.42
            a = -math.pi / 2 + i * math.pi / 5
            pts.append((rad * math.cos(a), rad * math.sin(a)))
        return rot(pts)
    if shape == "cross":
        w = r * 0.34
        return rot([(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r),
                    (-w, w), (-r, w), (-r, -w), (-w, -w)])
    raise ValueError(f"unknown shape {shape!r}")


def _texture(texture: str, yy: np.ndarray, xx: np.ndarray, size: int, phase: float
             ) -> np.ndarray:
    """A boolean pattern (True = the object's colour) at canvas coordinates ``yy``, ``xx``."""
    period = max(4.0, size / 10.0)
    if texture == "plain":
        return np.ones(yy.shape, dtype=bool)
    if texture == "striped":
        return ((xx + yy + phase * period) // (period / 2)) % 2 == 0
    if texture == "dotted":
        u = (xx + phase * period) % period - period / 2
        v = (yy + phase * period) % period - period / 2
        return (u * u + v * v) > (period * 0.28) ** 2
    if texture == "checkered":
        return ((xx + phase * period) // (period / 2) + yy // (period / 2)) % 2 == 0
    raise ValueError(f"unknown texture {texture!r}")


def _jitter_colour(rgb: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.array(rgb, dtype=np.float32) + rng.normal(0, 12, 3), 0, 255)


def render_scene(scene: Scene, size: int = 128, rng: np.random.Generator | None = None
                 ) -> Image.Image:
    """Draw a scene as an RGB image of ``size`` x ``size`` pixels."""
    rng = rng if rng is not None else np.random.default_rng(0)
    background = np.clip(245 + rng.normal(0, 6, 3), 200, 255).astype(np.float32)
    canvas = np.empty((size, size, 3), dtype=np.float32)
    canvas[:] = background
    canvas += rng.normal(0, 3, (size, size, 1)).astype(np.float32)
    outlines = []
    for obj in scene.objects:
        r = obj.size * size / 2
        cx, cy = obj.x * size, obj.y * size
        x0, y0 = max(0, int(cx - r) - 2), max(0, int(cy - r) - 2)
        x1, y1 = min(size, int(cx + r) + 3), min(size, int(cy + r) + 3)
        if x1 <= x0 or y1 <= y0:
            continue
        mask_img = Image.new("L", (x1 - x0, y1 - y0), 0)
        draw = ImageDraw.Draw(mask_img)
        if obj.shape == "circle":
            box = (cx - r, cy - r, cx + r, cy + r)
            draw.ellipse((box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0), fill=255)
            outlines.append(("ellipse", box, obj.colour))
        else:
            pts = _shape_points(obj.shape, cx, cy, r, obj.angle)
            draw.polygon([(px - x0, py - y0) for px, py in pts], fill=255)
            outlines.append(("polygon", pts, obj.colour))
        mask = np.asarray(mask_img, dtype=np.float32)[..., None] / 255.0
        colour = _jitter_colour(COLOURS[obj.colour], rng)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        pattern = _texture(obj.texture, yy, xx, size, float(rng.uniform(0, 1)))[..., None]
        light = 0.35 * colour + 0.65 * 255.0  # the gaps of a texture: a pale tint of the colour
        fill = np.where(pattern, colour, light)
        region = canvas[y0:y1, x0:x1]
        canvas[y0:y1, x0:x1] = region * (1 - mask) + fill * mask
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    width = max(1, size // 64)
    for kind, geom, colour in outlines:
        dark = tuple(int(c * 0.6) for c in COLOURS[colour])
        if kind == "ellipse":
            draw.ellipse(geom, outline=dark, width=width)
        else:
            draw.polygon(geom, outline=dark, width=width)
    return image


# --------------------------------------------------------------------------- captions


def _plural(shape: str, n: int) -> str:
    if n == 1:
        return shape
    return shape + "es" if shape.endswith("s") else shape + "s"


def _noun_phrase(n: int, texture: str, colour: str | None, shape: str,
                 rng: np.random.Generator, *, with_texture: bool) -> str:
    words = []
    if n == 1:
        words.append("a" if rng.random() < 0.8 else "one")
    else:
        words.append(COUNT_WORDS[n])
    if with_texture and texture != "plain":
        words.append(texture)
    elif with_texture and rng.random() < 0.3:
        words.append("plain")
    if colour:
        words.append(colour)
    words.append(_plural(shape, n))
    phrase = " ".join(words)
    return phrase.replace("a orange", "an orange")


def _allowed(colour: str, shape: str, exclude: frozenset) -> bool:
    return (colour, shape) not in exclude


def _pick_pair(rng: np.random.Generator, exclude: frozenset, only: Sequence | None = None
               ) -> tuple[str, str]:
    if only:
        return tuple(only[int(rng.integers(len(only)))])  # type: ignore[return-value]
    colours, shapes = list(COLOURS), list(SHAPES)
    while True:
        colour = colours[int(rng.integers(len(colours)))]
        shape = shapes[int(rng.integers(len(shapes)))]
        if _allowed(colour, shape, exclude):
            return colour, shape


def group_scene(rng: np.random.Generator, exclude: frozenset = frozenset(),
                only_pairs: Sequence[tuple[str, str]] | None = None) -> Scene:
    """1-3 identical objects (colour, shape, texture) in one region of the image."""
    colour, shape = _pick_pair(rng, exclude, only_pairs)
    texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
    n = int(rng.choice([1, 1, 2, 3]))
    position = list(POSITIONS)[int(rng.integers(len(POSITIONS)))]
    px, py = POSITIONS[position]
    size = {1: 0.36, 2: 0.26, 3: 0.22}[n] * float(rng.uniform(0.8, 1.15))
    objects = []
    horizontal_region = position in ("top", "bottom", "middle")
    for i in range(n):
        offset = (i - (n - 1) / 2) * size * 1.15
        jx, jy = rng.normal(0, 0.03, 2)
        x, y = (px + offset, py) if horizontal_region else (px, py + offset)
        objects.append(ObjectSpec(colour, shape, texture, float(np.clip(x + jx, 0.12, 0.88)),
                                  float(np.clip(y + jy, 0.12, 0.88)), size,
                                  float(rng.normal(0, 0.15))))
    r = rng.random()
    with_texture = rng.random() < 0.7
    with_colour = rng.random() < 0.93
    with_position = r < 0.6
    phrase = _noun_phrase(n, texture, colour if with_colour else None, shape, rng,
                          with_texture=with_texture)
    if with_position:
        options = POSITION_PHRASES[position]
        phrase = f"{phrase} {options[int(rng.integers(len(options)))]}"
    return Scene(objects, phrase, "group",
                 {"colour": colour, "shape": shape, "texture": texture, "count": str(n),
                  "position": position})


def pair_scene(rng: np.random.Generator, exclude: frozenset = frozenset()) -> Scene:
    """Two different objects and their spatial relation."""
    a = _pick_pair(rng, exclude)
    while True:
        b = _pick_pair(rng, exclude)
        if b != a:
            break
    ta = TEXTURES[int(rng.integers(len(TEXTURES)))]
    tb = TEXTURES[int(rng.integers(len(TEXTURES)))]
    relation = RELATIONS[int(rng.integers(len(RELATIONS)))]
    size = 0.3 * float(rng.uniform(0.85, 1.1))
    d = float(rng.uniform(0.22, 0.3))
    cx, cy = 0.5 + rng.normal(0, 0.04), 0.5 + rng.normal(0, 0.04)
    if relation in ("left of", "and"):
        pa, pb = (cx - d, cy), (cx + d, cy)
    elif relation == "right of":
        pa, pb = (cx + d, cy), (cx - d, cy)
    elif relation == "above":
        pa, pb = (cx, cy - d), (cx, cy + d)
    else:
        pa, pb = (cx, cy + d), (cx, cy - d)
    if relation == "and" and rng.random() < 0.5:
        pa, pb = pb, pa
    objects = [ObjectSpec(a[0], a[1], ta, float(pa[0]), float(pa[1]), size,
                          float(rng.normal(0, 0.15))),
               ObjectSpec(b[0], b[1], tb, float(pb[0]), float(pb[1]), size,
                          float(rng.normal(0, 0.15)))]
    with_texture = rng.random() < 0.4
    first = _noun_phrase(1, ta, a[0], a[1], rng, with_texture=with_texture)
    second = _noun_phrase(1, tb, b[0], b[1], rng, with_texture=with_texture)
    return Scene(objects, f"{first} {relation} {second}", "pair",
                 {"first": f"{a[0]} {a[1]}", "second": f"{b[0]} {b[1]}",
                  "relation": relation})


EMPTY_CAPTIONS = ("an empty background", "a blank image", "nothing", "an empty picture")


def single_scene(rng: np.random.Generator, exclude: frozenset = frozenset(),
                 only_pairs: Sequence[tuple[str, str]] | None = None) -> Scene:
    """One object at any scale (a third of the image to filling it, sometimes cut by the
    edge): what a sliding-window patch of a bigger scene looks like (see localisation)."""
    colour, shape = _pick_pair(rng, exclude, only_pairs)
    texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
    size = float(rng.uniform(0.3, 0.9))
    margin = max(0.0, 0.5 - size / 2) + 0.08
    x, y = (float(v) for v in rng.uniform(margin, 1 - margin, 2))
    phrase = _noun_phrase(1, texture, colour, shape, rng, with_texture=rng.random() < 0.5)
    return Scene([ObjectSpec(colour, shape, texture, x, y, size, float(rng.normal(0, 0.15)))],
                 phrase, "single", {"colour": colour, "shape": shape, "texture": texture,
                                    "count": "1"})


def empty_scene(rng: np.random.Generator) -> Scene:
    """Background only: teaches the model that an empty patch matches no object phrase."""
    return Scene([], EMPTY_CAPTIONS[int(rng.integers(len(EMPTY_CAPTIONS)))], "empty")


def twin_scene(scene: Scene, rng: np.random.Generator, exclude: frozenset = frozenset()
               ) -> Scene | None:
    """A hard negative: ``scene`` (a group or single scene) with its shape or its colour
    swapped for another, caption changed to match; None if the swap is impossible."""
    colour, shape = scene.labels.get("colour"), scene.labels.get("shape")
    if not colour or not shape:
        return None
    words = scene.caption.split()
    change_shape = rng.random() < 0.6 or colour not in words
    options = [(colour, s) if change_shape else (c, shape)
               for s in SHAPES for c in COLOURS
               if (s != shape if change_shape else c != colour)
               and (s == shape if not change_shape else c == colour)]
    options = [o for o in options if _allowed(o[0], o[1], exclude)]
    if not options:
        return None
    new_colour, new_shape = options[int(rng.integers(len(options)))]
    out = []
    for w in words:
        if w == colour:
            out.append(new_colour)
        elif w in (shape, _plural(shape, 2)):
            out.append(new_shape if w == shape else _plural(new_shape, 2))
        else:
            out.append(w)
    caption = " ".join(out).replace("a orange", "an orange")
    objects = [ObjectSpec(new_colour, new_shape, o.texture, o.x, o.y, o.size, o.angle)
               for o in scene.objects]
    return Scene(objects, caption, scene.kind, dict(scene.labels, colour=new_colour,
                                                    shape=new_shape))


def random_scene(rng: np.random.Generator, exclude: frozenset = frozenset(),
                 pair_fraction: float = 0.35, single_fraction: float = 0.0,
                 empty_fraction: float = 0.0) -> Scene:
    r = rng.random()
    if r < empty_fraction:
        return empty_scene(rng)
    if r < empty_fraction + single_fraction:
        return single_scene(rng, exclude)
    if rng.random() < pair_fraction:
        return pair_scene(rng, exclude)
    return group_scene(rng, exclude)


# --------------------------------------------------------------------------- photos


def available_photos() -> list[str]:
    """Names of the captioned scikit-image photos that this installation ships."""
    import skimage.data

    names = []
    for name in PHOTO_CAPTIONS:
        if hasattr(skimage.data, name):
            names.append(name)
    return names


@lru_cache(maxsize=64)
def load_photo(name: str) -> Image.Image:
    """A scikit-image sample photo as an RGB PIL image (from the installed package, no download).

    Raises ``ModuleNotFoundError``/``ValueError`` from scikit-image if the file is not shipped.
    """
    import skimage.data

    if name not in PHOTO_CAPTIONS:
        raise ValueError(f"no caption for scikit-image photo {name!r}")
    array = getattr(skimage.data, name)()
    if array.dtype == bool:
        array = np.where(array, 255, 0).astype(np.uint8)  # horse: False = the silhouette
    elif array.dtype != np.uint8:
        array = np.clip(array * (255.0 / max(float(array.max()), 1e-6)), 0, 255).astype(np.uint8)
    image = Image.fromarray(array)
    if image.mode == "RGBA":
        white = Image.new("RGB", image.size, (255, 255, 255))
        white.paste(image, mask=image.getchannel("A"))
        image = white
    return image.convert("RGB")


def photo_crop(name: str, rng: np.random.Generator, size: int = 128) -> Image.Image:
    """A random resized crop (60-100 % of the area) of a photo, maybe mirrored."""
    image = load_photo(name)
    w, h = image.size
    scale = float(rng.uniform(0.6, 1.0))
    side = int(min(w, h) * math.sqrt(scale))
    side = max(8, min(side, w, h))
    x0 = int(rng.integers(0, w - side + 1))
    y0 = int(rng.integers(0, h - side + 1))
    crop = image.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.BICUBIC)
    if rng.random() < 0.5:
        crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    return crop


# --------------------------------------------------------------------------- batches


def training_batch(rng: np.random.Generator, n: int, *, size: int = 128,
                   photo_fraction: float = 0.12, exclude: frozenset | None = None,
                   photos: Sequence[str] | None = None, single_fraction: float = 0.0,
                   empty_fraction: float = 0.0, twin_fraction: float = 0.0
                   ) -> tuple[list[Image.Image], list[str]]:
    """``n`` (image, caption) pairs: scenes (never a held-out pair) and photo crops.

    A photo appears at most once per batch, so it is never its own negative; at most one
    empty scene per batch for the same reason. ``twin_fraction`` of the group and single
    scenes come with a twin that differs only in shape or only in colour (a hard negative
    in the same batch).
    """
    exclude = frozenset(HELD_OUT_PAIRS) if exclude is None else exclude
    photos = list(photos if photos is not None else available_photos())
    n_photos = min(len(photos), int(rng.binomial(n, photo_fraction))) if photos else 0
    chosen = [photos[i] for i in rng.choice(len(photos), size=n_photos, replace=False)] \
        if n_photos else []
    images, captions = [], []
    for name in chosen:
        images.append(photo_crop(name, rng, size))
        options = PHOTO_CAPTIONS[name]
        captions.append(options[int(rng.integers(len(options)))])
    has_empty = False
    while len(images) < n:
        scene = random_scene(rng, exclude, single_fraction=single_fraction,
                             empty_fraction=0.0 if has_empty else empty_fraction)
        has_empty = has_empty or scene.kind == "empty"
        images.append(render_scene(scene, size, rng))
        captions.append(scene.caption)
        if len(images) < n and scene.kind in ("group", "single") and \
                rng.random() < twin_fraction:
            twin = twin_scene(scene, rng, exclude)
            if twin is not None and twin.caption not in captions:
                images.append(render_scene(twin, size, rng))
                captions.append(twin.caption)
    order = rng.permutation(n)
    return [images[i] for i in order], [captions[i] for i in order]


def zero_shot_eval_set(rng: np.random.Generator, pairs: Sequence[tuple[str, str]],
                       n: int, size: int = 128) -> tuple[list[Image.Image], list[tuple[str, str]]]:
    """Group scenes whose (colour, shape) is drawn from ``pairs``; returns images and pairs."""
    images, truth = [], []
    for i in range(n):
        pair = pairs[i % len(pairs)]
        scene = group_scene(rng, only_pairs=[pair])
        images.append(render_scene(scene, size, rng))
        truth.append(pair)
    return images, truth


def all_pairs() -> list[tuple[str, str]]:
    return [(c, s) for c in COLOURS for s in SHAPES]


def seen_pairs() -> list[tuple[str, str]]:
    held = set(HELD_OUT_PAIRS)
    return [p for p in all_pairs() if p not in held]


# --------------------------------------------------------------------------- the demo set

DEMO_SEED = 20240601
DEMO_SCENES = 135  # 108 group scenes (each colour-shape pair three times) + 27 two-object scenes
DEMO_VERSION = 2


def demo_scene(i: int, rng: np.random.Generator) -> Scene:
    """The ``i``-th demo scene: every fifth shows two objects, the others cycle through all
    36 colour-shape pairs (held-out ones included: zero-shot in action), so a search for any
    pair has at least three right answers once the set has 135 scenes."""
    if i % 5 == 4:
        return pair_scene(rng)
    pairs = all_pairs()
    return group_scene(rng, only_pairs=[pairs[(i - i // 5) % len(pairs)]])


def ensure_demo_images(folder: Path, n_scenes: int = DEMO_SCENES) -> Path:
    """Write the demo image set (drawn scenes + scikit-image photos) into ``folder`` once.

    Returns the folder. ``captions.json`` beside the images maps file name -> caption (and,
    under "objects", file name -> the "colour shape" of each drawn object). An existing
    complete set of the same version is left as it is (cheap to call every time).
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "captions.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if data.get("version") == DEMO_VERSION and all(
                    (folder / name).is_file() for name in data.get("captions", {})):
                return folder
        except (OSError, ValueError):
            log.warning("demo manifest %s unreadable: rewriting the demo set", manifest)
    rng = np.random.default_rng(DEMO_SEED)
    captions: dict[str, str] = {}
    objects: dict[str, list[str]] = {}
    for i in range(n_scenes):
        scene = demo_scene(i, rng)
        name = f"scene_{i:03d}.png"
        render_scene(scene, 160, rng).save(folder / name)
        captions[name] = scene.caption
        objects[name] = sorted({f"{o.colour} {o.shape}" for o in scene.objects})
    for photo in available_photos():
        try:
            image = load_photo(photo)
        except (ModuleNotFoundError, ValueError, OSError) as exc:
            log.info("scikit-image photo %s not available: %s", photo, exc)
            continue
        image.thumbnail((400, 400))
        name = f"photo_{photo}.jpg"
        image.save(folder / name, quality=90)
        captions[name] = PHOTO_CAPTIONS[photo][0]
        objects[name] = []
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": DEMO_VERSION, "captions": captions,
                               "objects": objects}, indent=1), encoding="utf-8")
    tmp.replace(manifest)
    return folder


def demo_objects(folder: Path) -> dict[str, list[str]]:
    """File name -> the "colour shape" of each drawn object (empty for photos)."""
    try:
        data = json.loads((folder / "captions.json").read_text(encoding="utf-8"))
        return {k: list(v) for k, v in data.get("objects", {}).items()}
    except (OSError, ValueError):
        return {}


def demo_captions(folder: Path) -> dict[str, str]:
    """File name -> caption of a demo folder written by :func:`ensure_demo_images`."""
    try:
        data = json.loads((folder / "captions.json").read_text(encoding="utf-8"))
        return dict(data.get("captions", {}))
    except (OSError, ValueError):
        return {}

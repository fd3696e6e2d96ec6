"""Fixtures of the CLIP tests: the real shipped mini-CLIP, real ChromaDB folders under tmp."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def mini_model():
    """Erica's shipped mini-CLIP, loaded once (safetensors, sha256 checked)."""
    from tutor.clip.models import load_mini_clip

    return load_mini_clip()


@pytest.fixture(scope="session")
def clip_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder shared by the tests that need the demo set indexed (built once)."""
    return tmp_path_factory.mktemp("clip-data")


@pytest.fixture
def clip_settings(clip_data_dir: Path):
    from tutor.settings import load_settings

    return load_settings(data_dir=clip_data_dir)


@pytest.fixture(scope="session")
def demo_indexed(clip_data_dir: Path, mini_model):
    """The demo set written and indexed into the shared data folder."""
    from tutor.clip.index import ensure_demo_set
    from tutor.settings import Settings

    settings = Settings(data_dir=clip_data_dir)
    ensure_demo_set(settings, mini_model)
    return settings


def scene_image(colour: str, shape: str, x: float = 0.5, y: float = 0.5, size: int = 160,
                texture: str = "plain", scale: float = 0.4) -> Image.Image:
    from tutor.clip.data import ObjectSpec, Scene, render_scene

    scene = Scene([ObjectSpec(colour, shape, texture, x, y, scale)], f"a {colour} {shape}")
    return render_scene(scene, size, np.random.default_rng(1))


def two_objects(size: int = 256) -> Image.Image:
    from tutor.clip.data import ObjectSpec, Scene, render_scene

    scene = Scene([ObjectSpec("red", "circle", "plain", 0.22, 0.5, 0.34),
                   ObjectSpec("blue", "square", "plain", 0.78, 0.5, 0.34)], "")
    return render_scene(scene, size, np.random.default_rng(2))


def png_bomb_header(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + \
        chunk(b"IEND", b"")


def write_bad_images(folder: Path) -> dict[str, Path]:
    """One file of each kind of bad (or awkward) input the issue lists."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    good = scene_image("red", "circle")
    files["good"] = folder / "good.png"
    good.save(files["good"])
    files["text_as_jpg"] = folder / "notes.jpg"
    files["text_as_jpg"].write_text("this is not an image\n")
    buf = io.BytesIO()
    good.save(buf, format="JPEG")
    files["truncated"] = folder / "truncated.jpg"
    files["truncated"].write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    files["bomb"] = folder / "bomb.png"
    files["bomb"].write_bytes(png_bomb_header())
    files["cmyk"] = folder / "cmyk.jpg"
    good.convert("CMYK").save(files["cmyk"])
    files["16bit"] = folder / "sixteen.png"
    arr = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    Image.fromarray(arr).save(files["16bit"])
    files["animated"] = folder / "animated.gif"
    frames = [scene_image(c, "square") for c in ("green", "blue", "yellow")]
    frames[0].save(files["animated"], save_all=True, append_images=frames[1:], duration=100,
                   loop=0)
    files["empty"] = folder / "empty.png"
    files["empty"].write_bytes(b"")
    return files

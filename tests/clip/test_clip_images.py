"""Safe decoding of hostile or awkward image files."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from knowledge.common.errors import InvalidInputError
from tests.clip.conftest import png_bomb_header, scene_image, write_bad_images
from tutor.clip import images


@pytest.mark.catalogue(case="images: corrupt (truncated), empty, mislabelled")
def test_bad_inputs_each_get_a_clear_reason(tmp_path: Path):
    files = write_bad_images(tmp_path)
    assert images.decode_file(files["good"]).image.mode == "RGB"
    with pytest.raises(InvalidInputError, match="not an image format"):
        images.decode_file(files["text_as_jpg"])
    with pytest.raises(InvalidInputError, match="damaged or truncated"):
        images.decode_file(files["truncated"])
    with pytest.raises(InvalidInputError, match="empty"):
        images.decode_file(files["empty"])


@pytest.mark.catalogue(case="images: decompression bomb", expect="refused from the header")
def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb_header(20000, 20000))
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="decompression bomb") as info:
        images.decode_file(path)
    assert time.perf_counter() - start < 1.0  # refused before any pixel is decoded
    assert "shrink" in info.value.fix
    with pytest.raises(InvalidInputError, match="decompression bomb"):
        images.decode_bytes(png_bomb_header(30000, 30000), "upload.png")
    # between Erica's limit and PIL's hard limit (2x) PIL only warns: Erica still refuses
    with pytest.raises(InvalidInputError, match="49000000 pixels.*decompression bomb"):
        images.decode_bytes(png_bomb_header(7000, 7000), "upload.png")


def test_cmyk_16bit_and_animated_are_converted(tmp_path: Path):
    files = write_bad_images(tmp_path)
    cmyk = images.decode_file(files["cmyk"])
    assert cmyk.mode == "CMYK" and cmyk.image.mode == "RGB" and "CMYK" in cmyk.note
    sixteen = images.decode_file(files["16bit"])
    assert sixteen.mode.startswith("I") and sixteen.image.mode == "RGB"
    pixels = sixteen.image.convert("L")
    assert pixels.getextrema() == (0, 255)  # scaled, not clipped to black/white
    animated = images.decode_file(files["animated"])
    assert animated.frames == 3 and "first frame" in animated.note


def test_alpha_is_composited_on_white():
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    decoded = images.decode_bytes(buf.getvalue(), "transparent.png")
    assert decoded.image.getpixel((0, 0)) == (255, 255, 255)


def test_upload_size_cap():
    buf = io.BytesIO()
    scene_image("red", "circle").save(buf, format="PNG")
    with pytest.raises(InvalidInputError, match="upload limit") as info:
        images.decode_bytes(buf.getvalue(), "big.png", max_mb=0.001)
    assert "ERICA_UPLOAD_MAX_MB" in info.value.fix
    with pytest.raises(InvalidInputError, match="empty"):
        images.decode_bytes(b"", "nothing.png")


def test_folder_outside_allowed_roots(tmp_path: Path):
    inside = tmp_path / "allowed" / "pics"
    inside.mkdir(parents=True)
    assert images.check_inside_roots(inside, [tmp_path / "allowed"]) == inside.resolve()
    with pytest.raises(InvalidInputError, match="outside") as info:
        images.check_inside_roots(tmp_path / "elsewhere", [tmp_path / "allowed"])
    assert "ERICA_CLIP_IMAGE_ROOTS" in info.value.fix
    sneaky = tmp_path / "allowed" / ".." / "elsewhere"
    with pytest.raises(InvalidInputError):
        images.check_inside_roots(sneaky, [tmp_path / "allowed"])


def test_iter_image_files_skips_hidden_and_other_files(tmp_path: Path):
    (tmp_path / ".hidden").mkdir()
    scene_image("red", "circle").save(tmp_path / ".hidden" / "a.png")
    scene_image("red", "circle").save(tmp_path / "b.PNG")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in images.iter_image_files(tmp_path)] == ["b.PNG"]

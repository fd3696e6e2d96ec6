"""Safe image decoding: every file a user hands in is treated as hostile.

* size caps: bytes before decoding (uploads: ``settings.upload_max_mb``), pixels from the header
  before any pixel is decoded (:data:`MAX_PIXELS`; decompression bombs are refused, and PIL's
  own ``Image.MAX_IMAGE_PIXELS`` guard is set to the same limit);
* anything PIL cannot identify (a text file named ``.jpg``, a truncated JPEG) is an
  :class:`InvalidInputError` with the reason;
* modes are normalised to RGB: CMYK, 16-bit and 32-bit greyscale (scaled, not clipped),
  palette and alpha images (composited on white), EXIF rotation applied; animated GIF/WebP/PNG
  use their first frame.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from knowledge.common.errors import InvalidInputError

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # ~ 6300 x 6300; a 20000 x 20000 image (400 MP) is refused
MAX_FILE_MB = 200  # for files in folders; uploads use settings.upload_max_mb
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg")

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass
class Decoded:
    image: Image.Image  # RGB
    width: int
    height: int
    mode: str  # the original mode
    frames: int  # > 1 for animated images (the first frame is used)
    note: str = ""  # what was converted, for the index log


def _to_rgb(image: Image.Image) -> tuple[Image.Image, str]:
    mode = image.mode
    if mode == "RGB":
        return image, ""
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        low, high = float(np.nanmin(arr)), float(np.nanmax(arr))
        if mode.startswith("I;16") and low >= 0:
            low, high = 0.0, max(high, 1.0) if high > 255 else 255.0
        scale = 255.0 / (high - low) if high > low else 0.0
        arr8 = np.clip((arr - low) * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, "L").convert("RGB"), f"{mode} scaled to 8-bit"
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white, f"{mode} composited on white"
    if mode == "CMYK":
        return image.convert("RGB"), "CMYK converted to RGB"
    return image.convert("RGB"), f"{mode} converted to RGB"


def _decode(source: io.BytesIO | Path, name: str, max_pixels: int) -> Decoded:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            original_mode = image.mode
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidInputError(
                    f"{name} is {width} x {height} pixels, more than the limit of "
                    f"{max_pixels:,} (a possible decompression bomb): skipped",
                    "shrink the image (e.g. to 4000 pixels a side) and try again")
            frames = int(getattr(image, "n_frames", 1) or 1)
            if frames > 1:
                image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image)
            rgb, note = _to_rgb(image)
            rgb.load()
    except InvalidInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInputError(f"{name} was refused as a possible decompression bomb ({exc})",
                                "shrink the image (e.g. to 4000 pixels a side) and try again"
                                ) from exc
    except UnidentifiedImageError as exc:
        raise InvalidInputError(f"{name} is not an image format Erica can read",
                                "use JPEG, PNG, GIF, WebP, BMP or TIFF files") from exc
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, MemoryError) as exc:
        raise InvalidInputError(f"{name} is damaged or truncated ({type(exc).__name__}: {exc})",
                                "re-export or re-download the image") from exc
    if frames > 1:
        note = (note + "; " if note else "") + f"animated ({frames} frames): first frame used"
    return Decoded(rgb, width, height, original_mode, frames, note)


def decode_bytes(data: bytes, name: str = "upload", max_mb: float = MAX_FILE_MB,
                 max_pixels: int = MAX_PIXELS) -> Decoded:
    """Decode an uploaded image safely (size cap in MB, pixel cap, RGB result)."""
    if not data:
        raise InvalidInputError(f"{name} is empty", "upload a non-empty image file")
    if len(data) > max_mb * 1024 * 1024:
        raise InvalidInputError(f"{name} is {len(data) / 1048576:.1f} MB, over the "
                                f"{max_mb:g} MB upload limit",
                                "upload a smaller file or raise ERICA_UPLOAD_MAX_MB")
    return _decode(io.BytesIO(data), name, max_pixels)


def decode_file(path: Path, max_mb: float = MAX_FILE_MB, max_pixels: int = MAX_PIXELS
                ) -> Decoded:
    """Decode an image file safely (see :func:`decode_bytes`)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInputError(f"{path} cannot be read ({exc.strerror or exc})",
                                "check the path and its permissions") from exc
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file", "give the path of an image file")
    if size > max_mb * 1024 * 1024:
        raise InvalidInputError(f"{path.name} is {size / 1048576:.1f} MB, over the "
                                f"{max_mb:g} MB limit", "shrink the file")
    if size == 0:
        raise InvalidInputError(f"{path.name} is empty", "remove or replace the file")
    try:
        with open(path, "rb") as handle:
            return _decode(io.BytesIO(handle.read()), path.name, max_pixels)
    except OSError as exc:
        raise InvalidInputError(f"{path} cannot be read ({exc.strerror or exc})",
                                "check the file's permissions") from exc


def iter_image_files(folder: Path, recursive: bool = True) -> Iterator[Path]:
    """Image files under ``folder`` by suffix (sorted; hidden files and folders skipped)."""
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    for path in sorted(folder.glob(pattern)):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            yield path


def check_inside_roots(path: Path, roots: tuple[Path, ...] | list[Path],
                       shown: list[str] | None = None) -> Path:
    """``path`` resolved, if it lies inside one of ``roots``; else InvalidInputError.

    Used by the UI so a browser user cannot index arbitrary folders of the server. The error
    names the roots as ``shown`` (default: their paths), so a page need not reveal where its
    own data lives.
    """
    resolved = Path(path).expanduser().resolve()
    allowed = [Path(r).expanduser().resolve() for r in roots]
    for root in allowed:
        if resolved == root or root in resolved.parents:
            return resolved
    names = ", ".join(shown if shown is not None else [str(r) for r in allowed])
    raise InvalidInputError(f"{path} is outside the folders the CLIP lab may read "
                            f"({names or 'none configured'})",
                            "add the folder to ERICA_CLIP_IMAGE_ROOTS (clip_image_roots in the "
                            "settings file), or upload the images instead")


def thumbnail(image: Image.Image, side: int = 256) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((side, side))
    return copy

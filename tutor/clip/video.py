"""Frames sampled from a video every N seconds (PyAV), indexed so a hit shows its timestamp.

Lecture 000 searches the frames of videos ("yellow fish"): each frame kept here is saved as a
JPEG under ``data_dir/clip/frames/<video hash>/`` and indexed with its video path and time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from knowledge.common.errors import InvalidInputError
from tutor.clip.encode import Item
from tutor.clip.images import VIDEO_SUFFIXES
from tutor.clip.index import IndexReport, Progress, index_items
from tutor.clip.models import ClipModel
from tutor.clip.sets import item_id

log = logging.getLogger(__name__)

MAX_FRAMES = 2000
FRAME_SIDE = 480
MAX_VIDEO_MB = 4096


@dataclass
class Frame:
    time: float
    image: Image.Image


def _undecodable(path: Path, exc: Exception) -> InvalidInputError:
    return InvalidInputError(
        f"{path.name} cannot be decoded as a video ({type(exc).__name__}: {exc})",
        "check that the file is a complete video (mp4/webm/mkv...); re-encode it with "
        "`ffmpeg -i IN -c:v libx264 OUT.mp4` if needed")


def sample_frames(path: Path, every_s: float = 1.0, max_frames: int = MAX_FRAMES
                  ) -> Iterator[Frame]:
    """Decode ``path`` and yield one frame every ``every_s`` seconds (the first frame at or
    after each multiple of ``every_s``), shrunk to at most ``FRAME_SIDE`` pixels a side."""
    import av

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist", "give the path of a video file")
    if every_s <= 0:
        raise InvalidInputError("the frame interval must be positive",
                                "use e.g. --every 1 (one frame per second)")
    if path.stat().st_size > MAX_VIDEO_MB * 1024 * 1024:
        raise InvalidInputError(f"{path.name} is larger than {MAX_VIDEO_MB} MB",
                                "cut the video into shorter parts")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise _undecodable(path, exc) from exc
    try:
        if not container.streams.video:
            raise InvalidInputError(f"{path.name} has no video stream",
                                    "give a file with a video track")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_t = 0.0
        kept = 0
        decoded_any = False
        try:
            for frame in container.decode(stream):
                decoded_any = True
                t = frame.time if frame.time is not None else kept * every_s
                if t + 1e-6 < next_t:
                    continue
                image = frame.to_image()
                image.thumbnail((FRAME_SIDE, FRAME_SIDE))
                yield Frame(float(t), image.convert("RGB"))
                kept += 1
                next_t = (int(t / every_s + 1e-6) + 1) * every_s
                if kept >= max_frames:
                    log.warning("%s: stopped after %d frames", path.name, max_frames)
                    break
        except (av.FFmpegError, ValueError) as exc:
            if not decoded_any:
                raise _undecodable(path, exc) from exc
            log.warning("%s: decoding stopped early (%s); frames so far are kept", path.name,
                        exc)
        if not decoded_any:
            raise _undecodable(path, ValueError("no frame could be decoded"))
    finally:
        container.close()


def _frame_path(folder: Path, t: float) -> Path:
    return folder / f"t{t:010.3f}.jpg"


def video_digest(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                        ).hexdigest()[:16]


def index_video(settings: Any, model: ClipModel, set_name: str, path: Path, *,
                every_s: float = 1.0, progress: bool = True,
                on_progress: Progress | None = None) -> IndexReport:
    """Sample frames of ``path`` every ``every_s`` seconds and index them into ``set_name``.

    Unchanged videos (same size and mtime, same interval) are skipped; frames of an older
    version of the same video are removed."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        log.info("%s has an unusual video suffix; trying anyway", path.name)
    if not path.is_file():
        raise InvalidInputError(f"{path} does not exist", "give the path of a video file")
    digest = video_digest(path)
    stat = path.stat()
    frames_dir = Path(settings.data_dir) / "clip" / "frames" / digest
    manifest = frames_dir / f"every-{every_s:g}s.json"
    times: list[float] = []
    if manifest.is_file():
        try:
            times = [float(t) for t in json.loads(manifest.read_text(encoding="utf-8"))]
        except (OSError, ValueError):
            times = []
        if not all(_frame_path(frames_dir, t).is_file() for t in times):
            times = []
    if not times:
        for frame in sample_frames(path, every_s):
            frames_dir.mkdir(parents=True, exist_ok=True)  # only once a frame decodes
            frame_path = _frame_path(frames_dir, frame.time)
            if not frame_path.exists():
                frame.image.save(frame_path, quality=88)
            times.append(frame.time)
        manifest.write_text(json.dumps(times), encoding="utf-8")
    resolved = str(path.resolve())
    items = [Item(item_id(path, f"@{t:.3f}"), _frame_path(frames_dir, t),
                  {"path": str(_frame_path(frames_dir, t)), "name": f"{path.name} @ {t:.1f}s",
                   "kind": "frame", "video": resolved, "timestamp": float(t),
                   "every_s": float(every_s), "size": int(stat.st_size),
                   "mtime_ns": int(stat.st_mtime_ns)})
             for t in times]

    def prune(meta: dict) -> bool:
        return meta.get("kind") == "frame" and meta.get("video") == resolved

    return index_items(settings, model, set_name, items, prune=prune, progress=progress,
                       on_progress=on_progress, kind="frames")

"""Frames of a real (generated) video: sampling every N seconds, timestamps in hits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.common.errors import InvalidInputError
from tests.clip.conftest import scene_image
from tutor.clip import search, video
from tutor.settings import Settings


def make_video(path: Path, seconds: int = 4, fps: int = 5) -> Path:
    """0-2 s: a red circle; 2-4 s: a blue square (mpeg4, encoded with PyAV)."""
    import av

    red = np.asarray(scene_image("red", "circle", size=128))
    blue = np.asarray(scene_image("blue", "square", size=128))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 128, 128, "yuv420p"
        for i in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(red if i < 2 * fps else blue, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_sample_frames_every_second(tmp_path: Path):
    path = make_video(tmp_path / "clip.mp4")
    frames = list(video.sample_frames(path, every_s=1.0))
    assert [round(f.time, 1) for f in frames] == [0.0, 1.0, 2.0, 3.0]
    assert frames[0].image.mode == "RGB"
    assert len(list(video.sample_frames(path, every_s=2.0))) == 2


def test_index_and_search_frames(tmp_path: Path, mini_model):
    settings = Settings(data_dir=tmp_path / "data")
    path = make_video(tmp_path / "lecture.mp4")
    report = video.index_video(settings, mini_model, "lecture", path, every_s=1.0,
                               progress=False)
    assert report.added == 4 and report.total == 4
    hits = search.search_text(settings, mini_model, "lecture", "a blue square", k=2)
    assert all(h.timestamp is not None and h.timestamp >= 2.0 for h in hits)
    assert hits[0].video == str(path.resolve())
    assert "lecture.mp4 @ 0:0" in hits[0].title
    again = video.index_video(settings, mini_model, "lecture", path, every_s=1.0,
                              progress=False)
    assert again.unchanged == 4 and again.added == 0


def test_undecodable_video(tmp_path: Path):
    bad = tmp_path / "broken.mp4"
    bad.write_text("this is not a video")
    with pytest.raises(InvalidInputError, match="cannot be decoded") as info:
        list(video.sample_frames(bad))
    assert "ffmpeg" in info.value.fix
    with pytest.raises(InvalidInputError, match="does not exist"):
        list(video.sample_frames(tmp_path / "absent.mp4"))
    with pytest.raises(InvalidInputError, match="positive"):
        list(video.sample_frames(make_video(tmp_path / "ok.mp4"), every_s=0))

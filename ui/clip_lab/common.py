"""What several CLIP lab tabs share: the model, uploads, demo images and result images."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from knowledge.common.errors import InvalidInputError
from tutor.settings import Settings
from ui.resources import guarded, settings


@st.cache_resource(show_spinner="Loading the CLIP model...")
def get_model(name: str, pretrained: str):
    from tutor.clip.models import load_model

    return load_model(settings(), name=name, pretrained=pretrained)


def allowed_roots(settings: Settings) -> list[tuple[Path, str]]:
    """Folders the page may read, each with how to name it to a browser user: the teacher's
    configured folders by path, Erica's own data folder by name only (its place on the
    server is none of the user's business)."""
    return [*((Path(r), str(r)) for r in settings.clip_image_roots),
            (Path(settings.data_dir) / "clip", "Erica's own image folder")]


def inside_roots(settings: Settings, path_text: str) -> Path:
    from tutor.clip.images import check_inside_roots

    roots = allowed_roots(settings)
    return check_inside_roots(Path(path_text.strip()), [r for r, _ in roots],
                              shown=[name for _, name in roots])


def read_upload(upload, settings: Settings) -> bytes:
    """The bytes of an upload, refused above the configured size."""
    limit = settings.upload_max_mb * 1024 * 1024
    if upload.size > limit:
        raise InvalidInputError(f"{upload.name} is {upload.size / 1048576:.1f} MB, over the "
                                f"{settings.upload_max_mb} MB limit",
                                "upload a smaller file or raise ERICA_UPLOAD_MAX_MB")
    return upload.getvalue()


def decode_upload(upload, settings: Settings):
    from tutor.clip.images import decode_bytes

    return decode_bytes(read_upload(upload, settings), upload.name,
                        max_mb=settings.upload_max_mb).image


def demo_images(settings: Settings) -> dict[str, Path]:
    from tutor.clip import data
    from tutor.clip.sets import demo_folder

    folder = data.ensure_demo_images(demo_folder(settings))
    names = data.demo_captions(folder)
    photos = sorted(n for n in names if n.startswith("photo_"))
    scenes = sorted(n for n in names if n.startswith("scene_"))
    return {n: folder / n for n in photos + scenes}


def pick_image(settings: Settings, key: str, default: str = "photo_chelsea.jpg"):
    """An image from the demo set or an upload; returns a PIL image or None."""
    from tutor.clip.images import decode_file

    source = st.radio("Image", ["demo image", "upload"], horizontal=True, key=f"{key}_src")
    if source == "upload":
        upload = st.file_uploader("Upload an image", type=None, key=f"{key}_upload")
        if upload is None:
            return None
        return guarded(decode_upload, upload, settings)
    choices = guarded(demo_images, settings) or {}
    if not choices:
        return None
    index = list(choices).index(default) if default in choices else 0
    name = st.selectbox("Demo image", list(choices), index=index, key=f"{key}_demo")
    return guarded(lambda: decode_file(choices[name]).image)


def score_caption(hit, feedback: bool = False) -> str:
    from tutor.clip.search import format_timestamp

    when = f" · t={format_timestamp(hit.timestamp)}" if hit.timestamp is not None else ""
    cosine = hit.cosine if hit.cosine is not None else hit.score
    belief = f" · score {hit.score:.3g}" if feedback else ""
    return f"#{hit.rank} · cos {cosine:.3f}{belief}{when}"


def show_image(path: str, caption: str) -> None:
    if path and Path(path).is_file():
        st.image(path, caption=caption, width="stretch")
    else:
        st.caption(f"(file deleted since indexing) {caption}")

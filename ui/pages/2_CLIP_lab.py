"""The CLIP lab: search with relevance feedback, zero-shot labels, the similarity matrix,
localisation, training a CLIP live, and video frames. Thin: the work is in ``tutor.clip``."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))  # run as a file

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

from knowledge.errors import EricaError  # noqa: E402
from tutor.settings import Settings, load_settings  # noqa: E402

log = logging.getLogger(__name__)

with contextlib.suppress(Exception):  # already set by the app in some Streamlit versions
    st.set_page_config(page_title="Erica - CLIP lab", page_icon="🖼️", layout="wide")


# --------------------------------------------------------------------------- resources


@st.cache_resource(show_spinner=False)
def get_settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Loading the CLIP model...")
def get_model(name: str, pretrained: str):
    from tutor.clip.models import load_model

    return load_model(get_settings(), name=name, pretrained=pretrained)


def show_error(exc: EricaError) -> None:
    st.error(f"**{exc.cause}**" + (f"\n\nHow to fix it: {exc.fix}" if exc.fix else ""))


def guarded(fn, *args, **kwargs):
    """Run ``fn``; an EricaError becomes a message with its fix, anything else a short
    message (logged with its traceback on the server, never shown)."""
    try:
        return fn(*args, **kwargs)
    except EricaError as exc:
        show_error(exc)
    except Exception as exc:  # noqa: BLE001 - the page must never show a traceback
        log.exception("CLIP lab: unexpected error")
        st.error(f"Something went wrong: {type(exc).__name__}: {exc}")
    return None


def allowed_roots(settings: Settings) -> list[Path]:
    return [*settings.clip_image_roots, Path(settings.data_dir) / "clip"]


def read_upload(upload, settings: Settings) -> bytes | None:
    """The bytes of an upload, refused above the configured size."""
    from knowledge.errors import InvalidInputError

    limit = settings.upload_max_mb * 1024 * 1024
    if upload.size > limit:
        raise InvalidInputError(f"{upload.name} is {upload.size / 1048576:.1f} MB, over the "
                                f"{settings.upload_max_mb} MB limit",
                                "upload a smaller file or raise ERICA_UPLOAD_MAX_MB")
    return upload.getvalue()


def decode_upload(upload, settings: Settings):
    from tutor.clip.images import decode_bytes

    decoded = decode_bytes(read_upload(upload, settings), upload.name,
                           max_mb=settings.upload_max_mb)
    return decoded.image


def demo_images(settings: Settings) -> dict[str, Path]:
    from tutor.clip import data
    from tutor.clip.index import demo_folder

    folder = data.ensure_demo_images(demo_folder(settings))
    names = data.demo_captions(folder)
    photos = sorted(n for n in names if n.startswith("photo_"))
    scenes = sorted(n for n in names if n.startswith("scene_"))
    return {n: folder / n for n in photos + scenes}


def pick_image(settings: Settings, key: str):
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
    default = list(choices).index("photo_chelsea.jpg") if "photo_chelsea.jpg" in choices else 0
    name = st.selectbox("Demo image", list(choices), index=default, key=f"{key}_demo")
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
        st.caption(f"(file gone) {caption}")


def heatmap_chart(matrix: np.ndarray, rows: list[str], cols: list[str], title: str):
    """Altair heatmap with the diagonal outlined (rows = images, columns = captions)."""
    import altair as alt
    import pandas as pd

    records = [{"image": rows[i], "caption": cols[j], "cosine": float(matrix[i, j]),
                "diagonal": i == j, "label": f"{matrix[i, j]:.2f}"}
               for i in range(matrix.shape[0]) for j in range(matrix.shape[1])]
    frame = pd.DataFrame.from_records(records)
    base = alt.Chart(frame).encode(
        x=alt.X("caption:N", sort=cols, title="caption", axis=alt.Axis(labelAngle=-35,
                                                                        labelLimit=160)),
        y=alt.Y("image:N", sort=rows, title="image"))
    cells = base.mark_rect().encode(color=alt.Color("cosine:Q", scale=alt.Scale(
        scheme="viridis")), tooltip=["image", "caption", "cosine"])
    diag = base.transform_filter(alt.datum.diagonal).mark_rect(
        fill=None, stroke="red", strokeWidth=3)
    text = base.mark_text(fontSize=11).encode(
        text="label:N",
        color=alt.condition(alt.datum.cosine > float(np.median(matrix)), alt.value("black"),
                            alt.value("white")))
    return (cells + diag + text).properties(title=title, height=max(200, 38 * len(rows)))


# --------------------------------------------------------------------------- sidebar


def sidebar(settings: Settings):
    from tutor.clip.models import MINI_CLIP, REGISTRY

    with st.sidebar:
        st.header("CLIP model")
        options = [settings.clip_model] + ([MINI_CLIP] if settings.clip_model != MINI_CLIP
                                           else [])
        choice = st.selectbox("Model", options, key="clip_model_choice",
                              help="mini-clip ships with Erica; other models need their "
                              "weights once (`erica clip get-weights`).")
        pretrained = settings.clip_pretrained if choice == settings.clip_model else ""
        model = guarded(get_model, choice, pretrained)
        if model is None:
            st.warning("No CLIP model loaded: the tabs need one.")
            return None
        st.success(f"Active model: **{model.label}**")
        info = REGISTRY.get(model.name)
        st.caption(info.description if info else model.description)
        zs = model.meta.get("zero_shot") or {}
        if zs.get("held_out_top1") is not None:
            st.caption(f"Zero-shot top-1 on colour-shape pairs never seen in training: "
                       f"{zs['held_out_top1']:.0%} (chance {zs['chance']:.1%}).")
        return model


# --------------------------------------------------------------------------- tabs


def tab_search(settings: Settings, model) -> None:
    from tutor.clip import index, search

    st.subheader("Text → image and image → image search")
    with st.expander("Add images to a set"):
        uploads = st.file_uploader("Upload images (added to the set 'uploads')",
                                   accept_multiple_files=True, key="search_uploads")
        if st.button("Index the uploads", key="index_uploads") and uploads:
            saved, problems = [], []
            for upload in uploads:
                try:
                    saved.append(index.save_upload(settings, read_upload(upload, settings),
                                                   upload.name))
                except EricaError as exc:
                    problems.append(f"{upload.name}: {exc.cause}")
            for problem in problems:
                st.warning(f"skipped {problem}")
            if saved:
                report = guarded(index.index_files, settings, model, "uploads", saved,
                                 progress=False, max_mb=settings.upload_max_mb)
                if report:
                    st.success(report.summary())
        folder = st.text_input("…or a folder on the server (inside the allowed roots)",
                               key="index_folder")
        set_name = st.text_input("Set name", value="my-images", key="index_set_name")
        if st.button("Index the folder", key="index_folder_btn"):
            from tutor.clip.images import check_inside_roots

            def run() -> None:
                if not folder.strip():
                    st.warning("Type a folder path first.")
                    return
                path = check_inside_roots(Path(folder), allowed_roots(settings))
                bar = st.progress(0.0, text="indexing")
                report = index.index_folder(
                    settings, model, set_name, path, progress=False,
                    on_progress=lambda d, t: bar.progress(d / max(t, 1), text=f"{d}/{t}"))
                st.success(report.summary())
                for path_, reason in report.skipped:
                    st.warning(f"skipped {Path(path_).name}: {reason}")

            guarded(run)
    sets = guarded(index.list_sets, settings, model) or []
    names = sorted({index.DEMO_SET, *(s.name for s in sets)})
    cols = st.columns([2, 3, 1])
    set_name = cols[0].selectbox("Image set", names, index=names.index(index.DEMO_SET),
                                 key="search_set")
    text = cols[1].text_input("Find images of…", value="", key="search_text",
                              placeholder="red circles, a horse, a cup of coffee")
    k = cols[2].number_input("Results", 4, 48, 12, step=4, key="search_k")
    query_image = st.file_uploader("…or search with an image (image → image)",
                                   key="search_query_image")
    go = st.button("Search", type="primary", key="search_go")

    def start(image=None) -> None:
        if image is None and query_image is not None and not text:
            image = decode_upload(query_image, settings)
        with st.spinner("Searching…"):
            session = search.FeedbackSession(settings, model, set_name,
                                             text="" if image is not None else text,
                                             image=image, display=int(k))
        st.session_state.fb = session
        st.session_state.fb_liked = set()

    if go:
        guarded(start)
    similar = st.session_state.pop("search_similar", None)
    if similar:
        guarded(start, Path(similar))
    session = st.session_state.get("fb")
    if session is None:
        st.info("Type a query and press Search (the demo set is built on first use).")
        return
    liked_ids = st.session_state.setdefault("fb_liked", set())
    query = session.text or "an image"
    st.caption(f"Query: {query!r} · {len(session.candidates)} candidates · "
               f"model {model.label}")
    shown = session.shown()
    cols = st.columns(4)
    for i, hit in enumerate(shown):
        with cols[i % 4]:
            show_image(hit.path, score_caption(hit, feedback=session.rounds > 0))
            if hit.caption:
                st.caption(hit.caption)
            liked = st.checkbox("👍 Like", key=f"like_{hit.id}", value=hit.id in liked_ids)
            if liked:
                liked_ids.add(hit.id)
            else:
                liked_ids.discard(hit.id)
            if st.button("More like this", key=f"similar_{hit.id}",
                         help="image → image search with this result as the query"):
                st.session_state.search_similar = hit.path
                st.rerun()
    c1, c2, c3 = st.columns([1, 1, 3])
    if c1.button("Bayes update", key="fb_update",
                 help="Re-rank with the PicHunter/SOMHunter rule (sigma = 0.1)"):
        if not st.session_state.fb_liked:
            st.warning("Like at least one result first.")
        else:
            guarded(session.like, sorted(st.session_state.fb_liked), [h.id for h in shown])
            for h in shown:
                st.session_state.pop(f"like_{h.id}", None)
            st.session_state.fb_liked = set()
            st.rerun()
    if c2.button("Reset", key="fb_reset"):
        session.reset()
        for h in shown:
            st.session_state.pop(f"like_{h.id}", None)
        st.session_state.fb_liked = set()
        st.rerun()
    c3.caption(f"Feedback rounds: {session.rounds}. Scores after feedback are the Bayes "
               "scores (max = 1); before, exp(-(1 - cos)/0.1) normalised.")


def tab_labels(settings: Settings, model) -> None:
    from tutor.clip import zeroshot

    st.subheader("Zero-shot labels")
    image = pick_image(settings, "labels")
    if image is not None:
        st.image(image, width=220)
    labels = st.text_area("Labels (comma or line separated)",
                          value="a cat, a dog, a car, a horse, a cup of coffee",
                          key="labels_text")
    names = list(zeroshot.TEMPLATE_SET_NAMES)
    template = st.selectbox("Prompt templates", names,
                            index=names.index(zeroshot.default_template_set(model)),
                            key="labels_templates",
                            help="clip-80 is the CLIP paper's 80-prompt ensemble")
    if st.button("Label the image", type="primary", key="labels_go") and image is not None:
        result = guarded(zeroshot.label_image, model, image, labels, template)
        if result:
            import altair as alt
            import pandas as pd

            for note in result.notes:
                st.info(note)
            top = result.labels[:20]
            frame = pd.DataFrame({"label": [lb for lb, _ in top], "probability": [p for _, p
                                                                                  in top]})
            chart = alt.Chart(frame).mark_bar().encode(
                x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])),
                y=alt.Y("label:N", sort="-x"), tooltip=["label", "probability"])
            st.altair_chart(chart, width="stretch")
            st.caption(f"{result.templates} prompt(s) per label from '{result.template_set}'; "
                       f"softmax of {model.logit_scale:.1f} x cosine.")
            st.session_state.labels_result = result.to_json()


def tab_similarity(settings: Settings, model) -> None:
    from tutor.clip import similarity

    st.subheader("Image × caption similarity matrix")
    n = st.slider("Pairs", 2, 8, 5, key="sim_n")
    pairs = guarded(similarity.demo_pairs, settings, n)
    if not pairs:
        return
    paths, captions = pairs
    thumbs = st.columns(len(paths))
    for col, path in zip(thumbs, paths, strict=True):
        col.image(str(path), caption=path.name, width="stretch")
    edited = st.text_area("Captions (one per line, in the order of the images)",
                          value="\n".join(captions), key=f"sim_captions_{n}")
    if st.button("Compute the matrix", type="primary", key="sim_go"):
        lines = [line for line in edited.splitlines() if line.strip()]
        result = guarded(similarity.similarity_matrix, model, list(paths), lines)
        if result:
            rows = [p.name for p in paths]
            st.altair_chart(heatmap_chart(result.matrix, rows, result.captions,
                                          "cosine similarity (diagonal = matching pairs)"),
                            width="stretch")
            st.caption(f"The diagonal is the row maximum for {result.diagonal_hits} of "
                       f"{len(rows)} images.")
            st.session_state.sim_matrix = result.matrix.tolist()


def tab_localize(settings: Settings, model) -> None:
    from tutor.clip import localize

    st.subheader("Where in the image does a phrase fit best?")
    image = pick_image(settings, "loc")
    phrase = st.text_input("Phrase", value="a cat", key="loc_phrase")
    patch = st.slider("Patch size (share of the shorter side)", 0.2, 0.8, 0.4, 0.05,
                      key="loc_patch")
    if st.button("Locate", type="primary", key="loc_go") and image is not None:
        result = guarded(localize.localize, model, image, phrase, patch_fraction=patch)
        if result:
            c1, c2 = st.columns(2)
            c1.image(result.image, caption="image", width="stretch")
            c2.image(localize.overlay(result), caption=f"heatmap of {phrase!r} "
                     f"({len(result.boxes)} overlapping patches; white box = best)",
                     width="stretch")
            st.session_state.loc_best = list(result.best_box)


def tab_train(settings: Settings) -> None:
    import pandas as pd

    from tutor.clip import train

    st.subheader("Train a CLIP live")
    st.markdown(
        "Each step draws a batch of image-caption pairs, embeds both, and minimises the "
        "symmetric cross-entropy of `logits = exp(t) · I_e @ T_eᵀ` (open_clip's ClipLoss). "
        "Watch the loss fall, the learned temperature 1/exp(t) shrink and the batch "
        "similarity matrix turn diagonal.")
    c1, c2, c3 = st.columns(3)
    steps = c1.number_input("Steps to run", 1, 2000, 60, key="train_steps")
    batch = c2.selectbox("Batch size", [32, 64, 128], index=1, key="train_batch")
    every = c3.number_input("Redraw every N steps", 1, 100, 5, key="train_every")
    b1, b2, b3 = st.columns(3)
    start = b1.button("Train", type="primary", key="train_go")
    evaluate = b2.button("Zero-shot test (held-out pairs)", key="train_eval")
    if b3.button("Start over", key="train_reset"):
        st.session_state.pop("trainer", None)
    trainer = st.session_state.get("trainer")
    if start:
        if trainer is None or trainer.config.batch_size != batch:
            config = train.TrainConfig(batch_size=int(batch), steps=max(int(steps), 200),
                                       warmup=20)
            trainer = guarded(train.Trainer, config)
            st.session_state.trainer = trainer
        if trainer is not None:
            chart = st.empty()
            metrics = st.empty()
            matrix = st.empty()
            target = trainer.step_no + int(steps)
            trainer.config.steps = max(trainer.config.steps, target)
            while trainer.step_no < target:
                info = guarded(trainer.step, keep=8)
                if info is None:
                    break
                if trainer.step_no % int(every) == 0 or trainer.step_no == target:
                    hist = trainer.history
                    chart.line_chart(pd.DataFrame({"loss": [h.loss for h in hist]},
                                                  index=[h.step for h in hist]))
                    metrics.markdown(
                        f"step **{info.step}** · loss **{info.loss:.3f}** · temperature "
                        f"**{info.temperature:.4f}** (logit scale {info.logit_scale:.1f}) · "
                        f"batch top-1 **{info.batch_accuracy:.0%}**")
                    names = [f"{i + 1}. {c[:28]}" for i, c in enumerate(info.captions)]
                    matrix.altair_chart(heatmap_chart(
                        info.similarity, [f"img {i + 1}" for i in range(len(names))], names,
                        f"batch similarity at step {info.step}"), width="stretch")
            st.session_state.train_last = {"step": trainer.step_no,
                                            "loss": trainer.history[-1].loss}
    elif trainer is not None and trainer.history:
        hist = trainer.history
        st.line_chart(pd.DataFrame({"loss": [h.loss for h in hist]},
                                   index=[h.step for h in hist]))
        st.caption(f"{trainer.step_no} steps so far; temperature "
                   f"{hist[-1].temperature:.4f}.")
    if evaluate:
        if trainer is None:
            st.warning("Train first.")
        else:
            report = guarded(trainer.evaluate, 90)
            if report:
                st.metric("Held-out colour-shape pairs: zero-shot top-1",
                          f"{report['held_out_top1']:.0%}",
                          help=f"chance {report['chance']:.1%}")
                st.caption(f"seen pairs: {report['seen_top1']:.0%}; held-out pairs: "
                           f"{', '.join(report['held_out_pairs'])}")


def tab_video(settings: Settings, model) -> None:
    from tutor.clip import search, video

    st.subheader("Search the frames of a video")
    upload = st.file_uploader("Upload a video", type=["mp4", "webm", "mkv", "mov", "avi"],
                              key="video_upload")
    path_text = st.text_input("…or a video path on the server (inside the allowed roots)",
                              key="video_path")
    every = st.slider("Sample a frame every N seconds", 0.5, 10.0, 1.0, 0.5, key="video_every")
    if st.button("Sample and index", key="video_go"):
        def run():
            import hashlib

            from tutor.clip.images import check_inside_roots

            if upload is not None:
                data = read_upload(upload, settings)
                folder = Path(settings.data_dir) / "clip" / "videos"
                folder.mkdir(parents=True, exist_ok=True)
                suffix = Path(upload.name).suffix.lower() or ".mp4"
                path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
                if not path.exists():
                    path.write_bytes(data)
                name = Path(upload.name).stem
            elif path_text:
                path = check_inside_roots(Path(path_text), allowed_roots(settings))
                name = path.stem
            else:
                st.warning("Upload a video or give a path.")
                return
            import re

            set_name = ("video-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_"))[:60]
            set_name = set_name.strip("-_") or "video"
            with st.spinner("Decoding and embedding frames…"):
                report = video.index_video(settings, model, set_name, path, every_s=every,
                                           progress=False)
            st.session_state.video_set = set_name
            st.success(report.summary())

        guarded(run)
    set_name = st.session_state.get("video_set")
    if not set_name:
        return
    query = st.text_input("Find frames showing…", key="video_query")
    if st.button("Search frames", key="video_search"):
        hits = guarded(search.search_text, settings, model, set_name, query, 8)
        if hits:
            cols = st.columns(4)
            for i, hit in enumerate(hits):
                with cols[i % 4]:
                    show_image(hit.path, score_caption(hit))
            st.session_state.video_hits = [h.to_json() for h in hits]


# --------------------------------------------------------------------------- page


def main() -> None:
    st.title("CLIP lab")
    st.caption("Images and text in one vector space: search, labels, similarity, "
               "localisation, feedback, and training a CLIP yourself.")
    settings = guarded(get_settings)
    if settings is None:
        return
    model = sidebar(settings)
    tabs = st.tabs(["Search", "Zero-shot labels", "Similarity matrix", "Localisation",
                    "Train CLIP live", "Video frames"])
    with tabs[4]:
        tab_train(settings)
    if model is None:
        for tab in (tabs[0], tabs[1], tabs[2], tabs[3], tabs[5]):
            with tab:
                st.info("Load a model first (see the sidebar).")
        return
    with tabs[0]:
        tab_search(settings, model)
    with tabs[1]:
        tab_labels(settings, model)
    with tabs[2]:
        tab_similarity(settings, model)
    with tabs[3]:
        tab_localize(settings, model)
    with tabs[5]:
        tab_video(settings, model)


main()

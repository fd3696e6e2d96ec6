"""The CLIP lab page driven headlessly with Streamlit's AppTest (real model, real store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clip.test_clip_video import make_video

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "pages" / "2_CLIP_lab.py")
TIMEOUT = 240


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, demo_indexed, tmp_path: Path):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    roots = tmp_path / "allowed"
    roots.mkdir()
    monkeypatch.setenv("ERICA_DATA_DIR", str(demo_indexed.data_dir))
    monkeypatch.setenv("ERICA_CLIP_IMAGE_ROOTS", str(roots))
    st.cache_resource.clear()  # settings are cached per process: read this test's env
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    at.roots = roots
    return at


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_page_loads_and_shows_the_model(app):
    assert any("Active model" in s.value and "mini-clip" in s.value for s in app.sidebar.success)
    assert [t.label for t in app.tabs] == ["Search", "Zero-shot labels", "Similarity matrix",
                                           "Localisation", "Train CLIP live", "Video frames"]


def test_search_with_feedback_and_reset(app):
    app.text_input(key="search_text").set_value("a horse")
    _button(app, "search_go").click().run()
    assert not app.exception and not app.error
    session = app.session_state["fb"]
    first = [h.id for h in session.shown()]
    app.checkbox(key=f"like_{first[2]}").check().run()
    _button(app, "fb_update").click().run()
    assert not app.exception
    assert app.session_state["fb"].rounds == 1
    _button(app, "fb_reset").click().run()
    assert app.session_state["fb"].rounds == 0
    # image -> image: "More like this" on the first result makes it the query
    target = app.session_state["fb"].shown()[0]
    _button(app, f"similar_{target.id}").click().run()
    assert not app.exception and not app.error
    session = app.session_state["fb"]
    assert session.text == "" and session.shown()[0].path == target.path


def test_labels_similarity_localize(app):
    app.text_area(key="labels_text").set_value("a cat, a horse, a rocket")
    _button(app, "labels_go").click().run()
    assert not app.exception and not app.error
    result = app.session_state["labels_result"]
    assert [set(r) for r in result] == [{"label", "prob"}] * 3
    _button(app, "sim_go").click().run()
    matrix = app.session_state["sim_matrix"]
    assert len(matrix) == len(matrix[0]) == 5
    _button(app, "loc_go").click().run()
    assert not app.exception and len(app.session_state["loc_best"]) == 4


def test_empty_labels_show_an_error_not_a_traceback(app):
    app.text_area(key="labels_text").set_value(" , ")
    _button(app, "labels_go").click().run()
    assert not app.exception
    assert any("no labels given" in e.value for e in app.error)


def test_train_live_steps(app):
    app.number_input(key="train_steps").set_value(3)
    app.selectbox(key="train_batch").set_value(32)
    _button(app, "train_go").click().run()
    assert not app.exception and not app.error
    assert app.session_state["train_last"]["step"] == 3


def test_folder_outside_roots_and_video(app, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    app.text_input(key="index_folder").set_value(str(outside))
    _button(app, "index_folder_btn").click().run()
    assert not app.exception
    assert any("outside the folders" in e.value for e in app.error)
    video = make_video(app.roots / "talk.mp4")
    app.text_input(key="video_path").set_value(str(video))
    _button(app, "video_go").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert app.session_state["video_set"] == "video-talk"
    app.text_input(key="video_query").set_value("a blue square")
    _button(app, "video_search").click().run()
    hits = app.session_state["video_hits"]
    assert hits and all("timestamp" in h for h in hits)

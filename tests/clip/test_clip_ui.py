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
    at.data_dir = demo_indexed.data_dir
    return at


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_page_loads_and_shows_the_model(app):
    assert any("Active model" in s.value and "mini-clip" in s.value for s in app.sidebar.success)
    assert [t.label for t in app.tabs] == ["Search", "Zero-shot labels", "Similarity matrix",
                                           "Localisation", "Train CLIP live", "Video frames"]


def _image_captions(at) -> list[str]:
    return [caption for element in at.get("image") for caption in element.captions]


def _ticked(at) -> list[str]:
    return [c.key for c in at.checkbox if c.key.startswith("like_") and c.value]


def test_search_with_feedback_and_reset(app):
    app.text_input(key="search_text").set_value("a horse")
    _button(app, "search_go").click().run()
    assert not app.exception and not app.error
    assert any("Query: 'a horse'" in c.value for c in app.caption)
    first = [h.id for h in app.session_state["fb"].shown()]
    app.checkbox(key=f"like_{app.session_state['fb_gen']}_{first[2]}").check().run()
    assert len(_ticked(app)) == 1
    _button(app, "fb_update").click().run()
    assert not app.exception
    assert app.session_state["fb"].rounds == 1
    assert _ticked(app) == []  # the ticks of the last round are cleared
    _button(app, "fb_update").click().run()  # no new tick: says so, no silent round
    assert app.session_state["fb"].rounds == 1
    assert any("nothing was changed" in w.value for w in app.warning)
    app.checkbox(key=f"like_{app.session_state['fb_gen']}_{first[0]}").check().run()
    _button(app, "fb_reset").click().run()
    assert app.session_state["fb"].rounds == 0 and _ticked(app) == []
    # image -> image: "More like this" on the first result makes it the query
    target = app.session_state["fb"].shown()[0]
    app.checkbox(key=f"like_{app.session_state['fb_gen']}_{first[1]}").check().run()
    _button(app, f"similar_{target.id}").click().run()
    assert not app.exception and not app.error
    session = app.session_state["fb"]
    assert session.text == "" and session.shown()[0].path == target.path
    assert _ticked(app) == []
    name = Path(target.path).name
    assert any(f"Query: 'images like {name}'" in c.value for c in app.caption)


def test_an_empty_search_says_what_to_do(app):
    _button(app, "search_go").click().run()
    assert not app.exception
    assert any("nothing to search for" in e.value and "red circles" in e.value
               for e in app.error)


def test_labels_similarity_localize(app):
    app.text_area(key="labels_text").set_value("a cat, a horse, a rocket")
    _button(app, "labels_go").click().run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert sorted(table["label"]) == ["a cat", "a horse", "a rocket"]
    assert abs(table["probability"].sum() - 1) < 1e-3
    _button(app, "sim_go").click().run()
    assert not app.exception and not app.error
    assert any("row maximum for" in c.value and "of 5 images" in c.value for c in app.caption)
    _button(app, "loc_go").click().run()
    assert not app.exception and not app.error
    assert any("white box = best patch, x " in c for c in _image_captions(app))
    assert any("Colour legend" in c.value and "fits best" in c.value for c in app.caption)


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
    assert any("step **3**" in md.value for md in app.markdown)


def test_folder_outside_roots_and_video(app, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    app.text_input(key="index_folder").set_value(str(outside))
    _button(app, "index_folder_btn").click().run()
    assert not app.exception
    assert any("outside the folders" in e.value for e in app.error)
    # the error names Erica's own folder, never where the server keeps its data
    assert not any(str(app.data_dir) in e.value for e in app.error)
    assert any("Erica's own image folder" in e.value for e in app.error)
    video = make_video(app.roots / "talk.mp4")
    app.text_input(key="video_path").set_value(str(video))
    _button(app, "video_go").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert app.session_state["video_set"] == "video-talk"
    app.text_input(key="video_query").set_value("a blue square")
    _button(app, "video_search").click().run()
    captions = [c for c in _image_captions(app) if "cos " in c]
    assert captions and all(" · t=" in c for c in captions)

"""Image sets in a real ChromaDB folder: incremental indexing, bad files, search, feedback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.common.errors import InvalidInputError
from tests.clip.conftest import scene_image, write_bad_images
from tutor.clip import index, search, sets
from tutor.settings import Settings


def test_incremental_indexing_with_bad_files(tmp_path: Path, mini_model):
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "pics"
    files = write_bad_images(folder)
    scene_image("blue", "square").save(folder / "blue.png")
    report = index.index_folder(settings, mini_model, "pics", folder, progress=False)
    readable = {"good", "cmyk", "16bit", "animated"}
    assert report.added == len(readable) + 1
    skipped = {Path(p).name: reason for p, reason in report.skipped}
    assert set(skipped) == {"notes.jpg", "truncated.jpg", "bomb.png", "empty.png"}
    assert "not an image" in skipped["notes.jpg"]
    assert "decompression bomb" in skipped["bomb.png"]
    assert report.total == len(readable) + 1
    assert any("CMYK" in note for _, note in report.notes)

    again = index.index_folder(settings, mini_model, "pics", folder, progress=False)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(readable) + 1)

    # same content, new mtime: unchanged (hash); new content: updated; deleted: removed
    os.utime(files["good"], ns=(1, 1))
    scene_image("green", "star").save(folder / "blue.png")
    files["cmyk"].unlink()
    third = index.index_folder(settings, mini_model, "pics", folder, progress=False)
    assert third.updated == 1 and third.removed == 1 and third.added == 0
    assert third.unchanged == len(readable) - 1
    assert third.total == len(readable)
    found = {s.name: s.count for s in sets.list_sets(settings, mini_model)}
    assert found == {"pics": len(readable)}


def test_empty_and_missing_folders(tmp_path: Path, mini_model):
    settings = Settings(data_dir=tmp_path / "data")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no image files"):
        index.index_folder(settings, mini_model, "e", tmp_path / "empty", progress=False)
    with pytest.raises(InvalidInputError, match="does not exist"):
        index.index_folder(settings, mini_model, "e", tmp_path / "nope", progress=False)
    with pytest.raises(InvalidInputError, match="not a valid image-set name"):
        sets.collection_name("bad name!", mini_model)
    with pytest.raises(InvalidInputError, match="does not exist"):
        search.search_text(settings, mini_model, "never-indexed", "a cat")


def test_text_search_over_the_demo_set(demo_indexed, mini_model):
    hits = search.search_text(demo_indexed, mini_model, "demo", "a photo of a cat", k=5)
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].score >= hits[-1].score
    assert "photo_chelsea.jpg" in [Path(h.path).name for h in hits[:3]]
    assert all(h.exists for h in hits)
    hits = search.search_text(demo_indexed, mini_model, "demo", "a horse", k=3)
    assert Path(hits[0].path).name == "photo_horse.jpg"
    assert hits[0].to_json()["path"].endswith("photo_horse.jpg")


def test_image_search_finds_the_image_itself(demo_indexed, mini_model):
    folder = sets.demo_folder(demo_indexed)
    target = folder / "scene_004.png"
    hits = search.search_image(demo_indexed, mini_model, "demo", target, k=3)
    assert Path(hits[0].path) == target.resolve()
    assert hits[0].score == pytest.approx(1.0, abs=1e-3)


def test_feedback_session_rounds_and_reset(demo_indexed, mini_model):
    session = search.FeedbackSession(demo_indexed, mini_model, "demo", text="red circles",
                                     display=8)
    first = session.shown()
    assert len(first) == 8 and first[0].score == pytest.approx(1.0)
    liked = first[3]
    after = session.like([liked.id], [h.id for h in first])
    assert session.rounds == 1 and after[0].score == pytest.approx(1.0)
    new_rank = [h.id for h in session.shown(len(session.candidates))].index(liked.id) + 1
    assert new_rank < liked.rank  # the liked result moves up
    session.reset()
    assert session.rounds == 0 and [h.id for h in session.shown()] == [h.id for h in first]
    with pytest.raises(InvalidInputError):
        session.like(["not-an-id"])


def test_demo_set_is_created_on_first_use(tmp_path: Path, mini_model, demo_indexed):
    settings = Settings(data_dir=tmp_path / "fresh")
    # the images are copied to save drawing them again; indexing on first use is the test
    shutil.copytree(sets.demo_folder(demo_indexed), sets.demo_folder(settings))
    hits = search.search_text(settings, mini_model, "demo", "a rocket", k=2)
    assert len(hits) == 2
    assert index.ensure_demo_set(settings, mini_model) is None  # complete: no work


def test_queries_are_checked(demo_indexed, mini_model):
    with pytest.raises(InvalidInputError, match="empty"):
        search.search_text(demo_indexed, mini_model, "demo", "   ")
    with pytest.raises(InvalidInputError):
        search.search_text(demo_indexed, mini_model, "demo", "x", k=0)
    vec = np.zeros(mini_model.dim, np.float32)
    vec[0] = 1
    collection = index.require_set(demo_indexed, mini_model, "demo")
    assert len(search.query_vector(collection, vec, 3)) == 3


def test_uploads_are_decoded_safely_and_indexed(tmp_path: Path, mini_model):
    import io

    from tests.clip.conftest import png_bomb_header

    settings = Settings(data_dir=tmp_path / "data", upload_max_mb=1)
    buf = io.BytesIO()
    scene_image("purple", "diamond").convert("CMYK").save(buf, format="JPEG")
    saved = index.save_upload(settings, buf.getvalue(), "../../etc/passwd photo.jpg")
    assert saved.parent == tmp_path / "data" / "clip" / "uploads" and saved.suffix == ".png"
    assert index.save_upload(settings, buf.getvalue(), "again.jpg").read_bytes() == \
        saved.read_bytes()
    with pytest.raises(InvalidInputError, match="decompression bomb"):
        index.save_upload(settings, png_bomb_header(), "bomb.png")
    with pytest.raises(InvalidInputError, match="upload limit"):
        index.save_upload(settings, b"x" * (2 * 1024 * 1024), "huge.png")
    report = index.index_files(settings, mini_model, "uploads", [saved], progress=False)
    assert report.added == 1 and report.total == 1


@pytest.mark.catalogue(case="clip: image deleted after indexing")
def test_images_deleted_after_indexing_are_reported_not_returned(tmp_path: Path, mini_model):
    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "pics"
    folder.mkdir()
    for i, colour in enumerate(("red", "blue", "green", "yellow")):
        scene_image(colour, "circle").save(folder / f"{i}-{colour}.png")
    index.index_folder(settings, mini_model, "pics", folder, progress=False)
    (folder / "0-red.png").unlink()
    hits = search.search_text(settings, mini_model, "pics", "a red circle", k=4)
    assert all(h.exists for h in hits) and len(hits) == 3
    assert [h.rank for h in hits] == [1, 2, 3]
    assert [Path(p).name for p in hits.gone] == ["0-red.png"]
    message = search.gone_message("pics", hits.gone)
    assert "deleted after it was indexed" in message and "erica clip index" in message
    session = search.FeedbackSession(settings, mini_model, "pics", text="a red circle")
    assert [Path(p).name for p in session.gone] == ["0-red.png"]
    assert index.prune_missing(settings, mini_model, "pics") == 1
    again = search.search_text(settings, mini_model, "pics", "a red circle", k=4)
    assert len(again) == 3 and not again.gone


def test_an_empty_feedback_query_says_so_in_plain_words(demo_indexed, mini_model):
    with pytest.raises(InvalidInputError, match="nothing to search for") as err:
        search.FeedbackSession(demo_indexed, mini_model, "demo")
    assert "red circles" in err.value.fix


def test_search_is_exact_and_sees_every_write(tmp_path: Path, mini_model):
    """Below its size limit a set is searched exactly; a re-index (a new revision) is seen
    at once, also by a search that had the old vectors in memory."""
    from tutor.clip.nearest import nearest

    settings = Settings(data_dir=tmp_path / "data")
    folder = tmp_path / "pics"
    folder.mkdir()
    scene_image("red", "circle").save(folder / "a.png")
    scene_image("blue", "square").save(folder / "b.png")
    index.index_folder(settings, mini_model, "pics", folder, progress=False)
    collection = sets.get_collection(settings, mini_model, "pics")
    query = mini_model.embed_texts(["a green star"])[0]
    before = nearest(collection, query, 5)
    assert len(before) == 2
    got = collection.get(include=["embeddings"])
    exact = sorted(1 - float(np.dot(v, query)) for v in got["embeddings"])
    assert [round(d, 5) for _, d in before] == [round(d, 5) for d in exact]
    scene_image("green", "star").save(folder / "c.png")
    index.index_folder(settings, mini_model, "pics", folder, progress=False)
    after = nearest(sets.get_collection(settings, mini_model, "pics"), query, 5)
    assert len(after) == 3
    hits = search.search_text(settings, mini_model, "pics", "a green star", k=1)
    assert Path(hits[0].path).name == "c.png"

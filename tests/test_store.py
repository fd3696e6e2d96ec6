"""The concept store on a real ChromaDB folder: atomic rebuilds, no-ops, damage detection."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.build import build_concepts, content_hash
from knowledge.cards import load_cards
from knowledge.chroma_client import open_client, writer_lock
from knowledge.common.errors import StoreError
from knowledge.course import CONCEPTS, card_metadata, load_course
from knowledge.embeddings import load_embedder
from knowledge.store import Record, VersionedCollection
from knowledge.synthetic import synthetic_cards
from tests.conftest import MINI_COURSE, TEST_MODELS

CARDS = load_cards([MINI_COURSE])


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("minilm-l6-int8", TEST_MODELS)


def _collection(path: Path) -> VersionedCollection:
    return VersionedCollection(open_client(path), CONCEPTS)


def test_build_then_noop_then_change(tmp_path: Path, embedder):
    col = _collection(tmp_path / "chroma")
    first = build_concepts(CARDS, embedder.name, lambda: embedder, col)
    assert first.changed and first.info.count == 15
    loads = []
    again = build_concepts(CARDS, embedder.name, lambda: loads.append(1) or embedder, col)
    assert not again.changed and loads == []  # nothing embedded, model not even asked for
    fewer = build_concepts(CARDS[:-1], embedder.name, lambda: embedder, col)
    assert fewer.changed and col.count() == 14
    names = [c.name for c in col.client.list_collections()]
    assert sum(n.startswith(f"{CONCEPTS}-") for n in names) == 1  # old build dropped


@pytest.mark.catalogue(case="build failing half way", expect="previous store stays active")
def test_failed_build_leaves_previous_store_usable(tmp_path: Path, embedder):
    col = _collection(tmp_path / "chroma")
    build_concepts(CARDS, embedder.name, lambda: embedder, col)
    before = col.info()

    class Exploding:
        name = embedder.name

        def encode(self, texts, progress=None):
            vecs = embedder.encode(texts)
            vecs[5] = np.nan  # Chroma rejects this half way through the write
            return vecs

    with pytest.raises(Exception):  # noqa: B017 - any failure must leave the old build
        build_concepts(CARDS[:-2], embedder.name, lambda: Exploding(), col)
    assert col.info() == before
    course = load_course(col)
    assert len(course.cards) == 15
    hits = col.query(embedder.encode_query("a model that matches images with text captions"), 1)
    assert hits[0][0] == "clip"


def test_content_hash_depends_on_cards_and_model():
    assert content_hash(CARDS, "a") == content_hash(list(reversed(CARDS)), "a")
    assert content_hash(CARDS, "a") != content_hash(CARDS, "b")
    assert content_hash(CARDS, "a") != content_hash(CARDS[1:], "a")


def test_content_hash_changes_with_the_onnx_recipe(monkeypatch: pytest.MonkeyPatch):
    from knowledge import onnx_embedding

    before = content_hash(CARDS, "minilm-l6-int8")
    monkeypatch.setattr(onnx_embedding, "RECIPE", "a-newer-recipe")
    assert content_hash(CARDS, "minilm-l6-int8") != before  # stores are re-embedded


@pytest.mark.catalogue(case="store: deleted index folder", expect="'damaged' + --reset")
def test_deleted_index_folder_is_detected(tmp_path: Path):
    """Chroma stays silent when its HNSW folder is lost; our verification must not."""
    from chromadb.api.shared_system_client import SharedSystemClient

    path = tmp_path / "chroma"
    col = _collection(path)
    cards = synthetic_cards(3000)
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(len(cards), 32)).astype(np.float32)
    records = [Record(c.id, v, c.summary, card_metadata(c))
               for c, v in zip(cards, vecs, strict=True)]
    col.build(records, "h" * 64, "random")
    load_course(col)  # healthy
    index_dirs = [p for p in path.iterdir() if p.is_dir()]
    assert index_dirs
    SharedSystemClient.clear_system_cache()
    for d in index_dirs:
        shutil.rmtree(d)
    with pytest.raises(StoreError) as err:
        load_course(_collection(path))
    assert "damaged" in err.value.cause and "erica kb build --reset" in err.value.fix


def test_missing_store_says_how_to_build(tmp_path: Path):
    with pytest.raises(StoreError, match="no concepts have been built") as err:
        _collection(tmp_path / "chroma").collection()
    assert err.value.fix == "run `erica kb build`"


def test_writer_lock_is_exclusive(tmp_path: Path):
    with writer_lock(tmp_path), pytest.raises(StoreError, match="another Erica process"), \
            writer_lock(tmp_path):
        pass
    with writer_lock(tmp_path):  # released again
        pass

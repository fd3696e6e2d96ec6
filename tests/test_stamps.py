"""Stamps of prepared models: atomic, never written through a link, keyed on content
(issue 15, item 3)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from knowledge import onnx_embedding
from knowledge.common.hashing import file_record, stamp_matches, write_stamp
from knowledge.embeddings import EMBEDDING_MODELS
from tests.conftest import TEST_MODELS
from tutor.llm import packaged
from tutor.llm.packaged import PackagedGGUF, resolve_gguf

SPEC = EMBEDDING_MODELS["minilm-l6-int8"]


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PackagedGGUF:
    """A split model package built by the test (two parts, known hash): the real 1.1 GB one
    takes minutes to assemble, the code path is the same."""
    pkg = tmp_path / "site" / "erica_stamp_part1" / "data"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "part000.bin").write_bytes(b"GGUF" + b"a" * 1000)
    (pkg / "part001.bin").write_bytes(b"b" * 500)
    digest = hashlib.sha256(b"GGUF" + b"a" * 1000 + b"b" * 500).hexdigest()
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = PackagedGGUF(name="stamped", sha256=digest, size=1504, requirements="r.txt",
                        parts=(("erica_stamp_part1", "erica-stamp-part1"),))
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "stamped", spec)
    return spec


@pytest.mark.catalogue(case="copied data folder: assembled GGUF reused")
def test_copied_data_folder_reuses_the_assembled_gguf(tmp_path: Path, fake_parts):
    assembled: list[int] = []
    first = resolve_gguf("stamped", tmp_path / "a" / "models", progress=assembled.append)
    assert sum(assembled) == 1504
    copy = tmp_path / "b"
    shutil.copytree(tmp_path / "a", copy, copy_function=shutil.copy)  # new mtimes, like cp -r
    assert (copy / "models" / first.name).stat().st_mtime_ns != first.stat().st_mtime_ns
    again: list[int] = []
    out = resolve_gguf("stamped", copy / "models", progress=again.append)
    assert out == copy / "models" / first.name and again == []  # verified by hash, not rebuilt
    stamp = json.loads((copy / "models" / "stamped.verified").read_text())
    assert stamp["file"]["mtime_ns"] == out.stat().st_mtime_ns  # refreshed: no hash next time
    assert str(tmp_path / "a") not in json.dumps(stamp)  # no path in a content stamp


def test_assembled_file_without_its_stamp_is_hashed_not_rebuilt(tmp_path: Path, fake_parts):
    models = tmp_path / "models"
    resolve_gguf("stamped", models)
    (models / "stamped.verified").unlink()
    again: list[int] = []
    resolve_gguf("stamped", models, progress=again.append)
    assert again == [] and (models / "stamped.verified").is_file()


@pytest.mark.catalogue(case="models/ linked to another data folder")
def test_linked_models_folder_does_not_rewrite_the_others_stamp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Data folder A's models/ is a link to B's: preparing through A must find B's int8
    embedder as it is, not export it again and rewrite B's stamp (which made B rebuild)."""
    onnx_embedding.prepared_model(SPEC.name, SPEC.path(), TEST_MODELS, SPEC.max_seq_length)
    b_models = tmp_path / "b" / "models"
    b_models.mkdir(parents=True)
    name = f"{SPEC.name}.onnx"
    for suffix in ("", ".json"):  # B's prepared embedder: a copy of the shared test one
        shutil.copy2(TEST_MODELS / (name + suffix), b_models / (name + suffix))
    exports: list[Path] = []
    monkeypatch.setattr(onnx_embedding, "export_int8",
                        lambda *args: exports.append(args[1]) or ("int8", 1.0))
    assert onnx_embedding.prepared_model(SPEC.name, SPEC.path(), b_models,
                                         SPEC.max_seq_length) == b_models / name
    assert exports == []  # a copy with the same content and times is B's own
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "models").symlink_to(b_models)
    stamp = b_models / f"{name}.json"
    before = (stamp.read_bytes(), stamp.stat().st_mtime_ns)
    out = onnx_embedding.prepared_model(SPEC.name, SPEC.path(), tmp_path / "a" / "models",
                                        SPEC.max_seq_length)
    assert out == tmp_path / "a" / "models" / name and exports == []
    assert (stamp.read_bytes(), stamp.stat().st_mtime_ns) == before


def test_stamp_is_atomic_and_never_written_through_a_link(tmp_path: Path):
    theirs = tmp_path / "theirs.json"
    theirs.write_text('{"owner": "another data folder"}')
    stamp = tmp_path / "mine" / "model.verified"
    stamp.parent.mkdir()
    stamp.symlink_to(theirs)
    model = tmp_path / "mine" / "model.bin"
    model.write_bytes(b"weights")
    write_stamp(stamp, {"sha256": "x", "file": file_record(model)})
    assert json.loads(theirs.read_text()) == {"owner": "another data folder"}
    assert not stamp.is_symlink() and stamp_matches(stamp, {"sha256": "x"}, {"file": model})
    assert [p.name for p in stamp.parent.iterdir() if p.name.endswith(".tmp")] == []
    model.write_bytes(b"other weights")  # changed content: the stamp no longer matches
    assert not stamp_matches(stamp, {"sha256": "x"}, {"file": model})
    os.utime(model, ns=(0, 0))
    assert not stamp_matches(stamp, {"sha256": "x"}, {"file": model})

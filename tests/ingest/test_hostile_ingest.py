"""Hostile material: AES-encrypted and truncated PDFs, symlink loops, kill -9 mid-ingest
(issue 15, items 6 and 7, and the ingestion part of the catalogue)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.chroma_client import open_client
from knowledge.ingest.pipeline import IngestOptions, ingest
from knowledge.ingest.readers import SkipFile, read_file
from knowledge.ingest.samples import minimal_pdf
from knowledge.ingest.store import PassageStore
from tests.conftest import MINI_COURSE, ROOT, erica_env
from tests.ingest.conftest import SLIDES, write_good_material
from tests.test_hostile_store import kill_when_writing


def aes_pdf(algorithm: str, user_password: str) -> bytes:
    """A one-page PDF encrypted as a teacher's export tool would (pypdf needs the
    `cryptography` package to write and to read AES)."""
    from pypdf import PdfReader, PdfWriter

    plain = minimal_pdf([["lecture notes about breadth-first search"]])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.catalogue(case="PDF: AES-256 with a password", expect="'encrypted', not a bug")
def test_aes256_pdf_with_a_password_is_encrypted_not_a_bug(tmp_path: Path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(aes_pdf("AES-256", "secret"))
    with pytest.raises(SkipFile) as err:
        read_file(path)
    assert "encrypted PDF" in err.value.cause and "password" in err.value.cause
    assert "bug" not in err.value.fix


@pytest.mark.catalogue(case="PDF: AES-128 with an empty password", expect="decrypted, read")
def test_aes128_pdf_with_an_empty_password_is_read(tmp_path: Path):
    path = tmp_path / "open.pdf"
    path.write_bytes(aes_pdf("AES-128", ""))
    doc = read_file(path)
    assert "breadth-first search" in doc.segments[0].text


@pytest.mark.catalogue(case="PDF: AES without the decrypting package",
                       expect="names 'cryptography' and setup.sh")
def test_aes_without_cryptography_names_what_decrypts_it(tmp_path: Path):
    """Where `cryptography` is missing (an old install), say so: not "broken", not a bug."""
    path = tmp_path / "open.pdf"
    path.write_bytes(aes_pdf("AES-128", ""))
    script = ("import sys; sys.modules['cryptography'] = None\n"  # as if not installed
              "from pathlib import Path\n"
              "from knowledge.ingest.workers import _read_one\n"
              f"print(_read_one({str(path)!r}, 10**8))\n")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "'skip'" in done.stdout and "cryptography" in done.stdout, done.stdout
    assert "setup.sh" in done.stdout and "bug" not in done.stdout and "broken" not in done.stdout


@pytest.mark.catalogue(case="PDF: truncated", expect="'broken PDF' with a fix")
def test_truncated_pdf_is_broken(tmp_path: Path):
    whole = minimal_pdf(SLIDES, landscape=True)
    path = tmp_path / "cut.pdf"
    path.write_bytes(whole[: len(whole) // 3])
    try:
        doc = read_file(path)  # pypdf may recover the pages before the cut: that is fine
    except SkipFile as exc:
        assert "PDF" in exc.cause and exc.fix
    else:
        assert doc.segments


def _ingest(paths, data: Path, embedder):
    options = IngestOptions(course="demo", data_dir=data, course_dirs=(MINI_COURSE,))
    return ingest(paths, options, open_client(data / "chroma"), lambda: embedder)


@pytest.mark.catalogue(case="symlink loop inside an ingested folder", expect="reported")
def test_symlink_loops_inside_a_folder_are_reported(tmp_path: Path, embedder):
    folder = tmp_path / "lectures"
    folder.mkdir()
    (folder / "notes.md").write_text("# Search\n\nBreadth-first search is an uninformed search "
                                     "strategy that expands the shallowest node first.\n")
    (folder / "self.md").symlink_to("self.md")  # a link to itself
    (folder / "ping.md").symlink_to("pong.md")
    (folder / "pong.md").symlink_to("ping.md")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..")  # a folder that contains itself
    report = _ingest([folder], tmp_path / "data", embedder)
    status = {f.path: (f.status, f.reason) for f in report.files}
    assert status["lectures/notes.md"][0] == "ingested"
    for name in ("lectures/self.md", "lectures/ping.md", "lectures/pong.md", "lectures/sub/up"):
        assert status[name][0] == "skipped" and "symlink loop" in status[name][1], status


@pytest.mark.catalogue(case="symlink loop named directly", expect="'a symlink loop'")
def test_symlink_loop_named_directly_is_not_not_found(tmp_path: Path, embedder):
    loop = tmp_path / "loop.md"
    loop.symlink_to("loop.md")
    dangling = tmp_path / "gone.md"
    dangling.symlink_to("nowhere.md")
    report = _ingest([loop, dangling, tmp_path / "missing.md"], tmp_path / "data", embedder)
    reasons = {Path(f.path).name: f.reason for f in report.files}
    assert reasons["loop.md"].startswith("a symlink loop")
    assert reasons["gone.md"].startswith("a broken symlink")
    assert reasons["missing.md"] == "not found"


@pytest.mark.catalogue(case="kill -9 during kb ingest",
                       expect="store and cards as before; next ingest works")
def test_kill_9_during_ingest(tmp_path: Path, embedder, use_env, capsys):
    from tutor.cli import main

    material = write_good_material(tmp_path / "material")
    data = tmp_path / "data"
    env = {**os.environ, **erica_env(data),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    kill_when_writing([sys.executable, "-m", "tutor.cli", "kb", "ingest", str(material),
                       "--course", "demo"], data, env, tmp_path, after_s=0.3)
    use_env(erica_env(data))
    course_dir = data / "courses" / "demo"
    # Whatever the moment of the kill: no half-written card file and a readable store.
    for card_file in course_dir.glob("*.yaml") if course_dir.is_dir() else []:
        assert card_file.read_text().startswith("unit:")
    PassageStore(open_client(data / "chroma")).load()
    assert main(["kb", "ingest", str(material), "--course", "demo"]) in (0, 1)
    out = capsys.readouterr().out
    assert "ingested" in out or "unchanged" in out
    assert main(["kb", "validate", str(course_dir), str(MINI_COURSE)]) == 0

"""The whole ingestion on a real ChromaDB under tmp with the real MiniLM embedder:
bad input, idempotence, a changed file, a removed file, teacher edits, a failure halfway,
and passage-aware retrieval."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.cards import load_cards
from knowledge.chroma_client import open_client
from knowledge.ingest.pipeline import IngestOptions, ingest
from knowledge.ingest.samples import minimal_pdf
from knowledge.ingest.store import PassageStore
from knowledge.passages import best_passages, load_passage_index, split_ids
from knowledge.validate import validate
from tests.conftest import MINI_COURSE
from tests.ingest.conftest import SLIDES, write_bad_material, write_good_material
from tutor.reading import further_reading


class CountingEmbedder:
    """The real embedder, counting what it is asked to embed."""

    def __init__(self, real):
        self.real = real
        self.name = real.name
        self.texts: list[str] = []

    def encode(self, texts, batch_size=64, progress=None):
        self.texts.extend(texts)
        return self.real.encode(texts, batch_size=batch_size, progress=progress)

    def encode_query(self, text):
        return self.real.encode_query(text)


def _run(folder: Path, data: Path, embedder, course: str = "demo"):
    options = IngestOptions(course=course, data_dir=data, course_dirs=(MINI_COURSE,),
                            workers=2)
    return ingest([folder], options, open_client(data / "chroma"), lambda: embedder)


def _tree(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, embedder):
    """One course ingested from good and bad material (shared by the read-only tests)."""
    root = tmp_path_factory.mktemp("ingest")
    folder = write_good_material(root / "lectures")
    bad = write_bad_material(folder)
    counting = CountingEmbedder(embedder)
    report = _run(folder, root / "data", counting)
    return root, folder, bad, report, counting


def test_every_file_is_ingested_or_reported(ingested):
    _root, _folder, bad, report, _ = ingested
    by_name = {Path(f.path).name: f for f in report.files}
    for name, words in bad.items():
        assert by_name[name].status == "skipped" and words in by_name[name].reason, name
        assert by_name[name].fix
    ingested_files = {n for n, f in by_name.items() if f.status == "ingested"}
    assert ingested_files == {"lecture01-search.md", "lecture02-astar.pdf",
                              "lecture03-recording.srt", "lecture04-recording.vtt",
                              "lecture05-whisper.txt", "local-search.html", "poznamky-cz.txt",
                              "zametki-ru.txt", "notes-injection.md"}
    assert by_name["poznamky-cz.txt"].encoding == "cp1250"
    assert by_name["zametki-ru.txt"].encoding == "cp1251"
    assert by_name["lecture02-astar.pdf"].pages == 3
    assert by_name["lecture03-recording.srt"].minutes > 1
    assert any("instruction-like" in w for w in by_name["notes-injection.md"].warnings)


def test_passages_are_stored_with_source_location_and_concepts(ingested):
    root, _folder, _bad, report, _ = ingested
    stored = PassageStore(open_client(root / "data" / "chroma")).load()
    records = stored.of_course("demo")
    assert len(records) == report.passages_total > 10
    labels = {r.metadata["label"] for r in records}
    assert "Lecture 02 astar, slide 2" in labels
    assert any(label.startswith("Lecture 03 recording, 1:") for label in labels)
    assert all(r.metadata["source_sha"] and r.metadata["source"].startswith("/")
               for r in records)
    assert all(r.embedding.shape == (384,) for r in records)
    texts = " ".join(r.document for r in records)
    assert "Ignore your previous instructions" not in texts
    slide = next(r for r in records if r.metadata["label"] == "Lecture 02 astar, slide 2")
    assert "admissible-heuristic" in split_ids(slide.metadata["about"])
    assert "heuristic-function" in split_ids(slide.metadata["concepts"])  # a mini-course card


def test_cards_are_reviewable_and_validate_with_the_course(ingested):
    root, _folder, _bad, report, _ = ingested
    course_dir = root / "data" / "courses" / "demo"
    cards = load_cards([course_dir])
    assert cards and all(c.origin == "ingested" for c in cards)
    assert validate(load_cards([MINI_COURSE, course_dir])) == []
    by_id = {c.id: c for c in cards}
    # merged, not duplicated: the mini course already has these concepts
    assert "heuristic-function" not in by_id and "breadth-first-search" not in by_id
    assert {"admissible-heuristic", "consistent-heuristic", "frontier"} <= set(by_id)
    assert "admissible-heuristic" in by_id["consistent-heuristic"].prerequisites
    assert by_id["admissible-heuristic"].sources == ("Lecture 02 astar, slide 2",)
    assert "Prohledávání do šířky" in {c.name for c in cards}
    review = (course_dir / "REVIEW.md").read_text(encoding="utf-8")
    assert "confidence" in review and "Admissible heuristic" in review
    assert (course_dir / "links.json").is_file()


def test_second_run_changes_nothing(ingested, embedder):
    root, folder, _bad, _report, _ = ingested
    data = root / "data"
    course_dir = data / "courses" / "demo"
    before_files = _tree(course_dir)
    before_info = PassageStore(open_client(data / "chroma")).info()
    counting = CountingEmbedder(embedder)
    again = _run(folder, data, counting)
    assert not again.store_changed and not again.changed
    assert again.passages_added == again.passages_removed == 0
    assert counting.texts == []  # nothing embedded (term vectors come from the cache)
    assert _tree(course_dir) == before_files
    assert PassageStore(open_client(data / "chroma")).info() == before_info
    assert {f.status for f in again.files} == {"unchanged", "skipped"}


def test_changed_file_updates_only_what_came_from_it(tmp_path, embedder):
    folder = write_good_material(tmp_path / "lectures")
    data = tmp_path / "data"
    _run(folder, data, embedder)
    course_dir = data / "courses" / "demo"
    store = PassageStore(open_client(data / "chroma"))
    before = {r.id: r for r in store.load().of_course("demo")}
    files_before = _tree(course_dir)
    pdf = folder / "lecture02-astar.pdf"
    pdf.write_bytes(minimal_pdf([*SLIDES, ["Dominating heuristic", "A dominating heuristic "
                                           "is a heuristic function that is never smaller "
                                           "than another admissible heuristic."]],
                                landscape=True))
    counting = CountingEmbedder(embedder)
    report = _run(folder, data, counting)
    after = {r.id: r for r in store.load().of_course("demo")}
    changed = [r for r in after.values() if r.metadata["source"] == str(pdf.resolve())]
    assert report.passages_added == 1 and report.passages_removed == 0
    # only the new slide was embedded (its passage, and its new term for the merge check)
    assert counting.texts and all("Dominating heuristic" in t for t in counting.texts)
    for pid, rec in after.items():
        if rec.metadata["source"] != str(pdf.resolve()):
            assert pid in before and rec.document == before[pid].document
            assert np.allclose(rec.embedding, before[pid].embedding)
    assert len(changed) == 4
    files_after = _tree(course_dir)
    rewritten = {n for n in files_after if files_after[n] != files_before.get(n)}
    assert rewritten <= {"lectures-lecture02-astar.yaml", "REVIEW.md", "links.json"}
    assert "lectures-lecture02-astar.yaml" in rewritten
    assert "dominating-heuristic" in {c.id for c in load_cards([course_dir])}

    (folder / "local-search.html").unlink()  # a removed file takes its passages and cards
    report = _run(folder, data, embedder)
    assert [f.status for f in report.files if f.path.endswith("local-search.html")] == \
        ["removed"]
    assert not (course_dir / "lectures-local-search.yaml").exists()
    sources = {r.metadata["source_name"] for r in store.load().of_course("demo")}
    assert "lectures/local-search.html" not in sources


def test_teacher_edits_are_never_overwritten(tmp_path, embedder):
    folder = write_good_material(tmp_path / "lectures")
    data = tmp_path / "data"
    _run(folder, data, embedder)
    card_file = data / "courses" / "demo" / "lectures-lecture02-astar.yaml"
    edited = card_file.read_text(encoding="utf-8").replace("level: intro",
                                                           "level: intermediate")
    card_file.write_text(edited, encoding="utf-8")
    (folder / "lecture02-astar.pdf").write_bytes(minimal_pdf(
        [*SLIDES[:2], ["Dominating heuristic", "A dominating heuristic is a heuristic function "
                       "that is never smaller than another admissible heuristic."]],
        landscape=True))
    report = _run(folder, data, embedder)
    assert report.cards_kept == ["lectures-lecture02-astar.yaml"]
    assert card_file.read_text(encoding="utf-8") == edited
    proposal = data / "ingest" / "demo" / "proposed" / "lectures-lecture02-astar.yaml"
    assert "id: dominating-heuristic" in proposal.read_text(encoding="utf-8")


def test_unreadable_file_keeps_its_earlier_passages(tmp_path, embedder):
    folder = write_good_material(tmp_path / "lectures")
    data = tmp_path / "data"
    first = _run(folder, data, embedder)
    (folder / "lecture02-astar.pdf").write_bytes(b"%PDF-1.4 truncated by a bad copy")
    report = _run(folder, data, embedder)
    entry = next(f for f in report.files if f.path.endswith("lecture02-astar.pdf"))
    assert entry.status == "skipped" and "earlier passages are kept" in entry.reason
    assert report.passages_total == first.passages_total and not report.store_changed


def test_failure_halfway_leaves_everything_as_it_was(tmp_path, embedder, monkeypatch):
    folder = write_good_material(tmp_path / "lectures")
    data = tmp_path / "data"
    _run(folder, data, embedder)
    store = PassageStore(open_client(data / "chroma"))
    info_before = store.info()
    ids_before = {r.id for r in store.load().records}
    course_dir = data / "courses" / "demo"
    files_before = _tree(course_dir)
    manifest = (data / "ingest" / "demo" / "manifest.json").read_text(encoding="utf-8")

    (folder / "lecture06-new.md").write_text("# Lecture 6\n\n## Minimax\nMinimax is a "
                                             "decision rule for two-player games.\n",
                                             encoding="utf-8")
    (folder / "local-search.html").unlink()
    original = PassageStore.commit

    def crash_halfway(self, records, model, progress=None):
        from knowledge.store import Record

        bad = Record("poison", np.full(384, np.nan, dtype=np.float32), "x", {"course": "x"})
        return original(self, [*records, bad], model, progress)  # Chroma fails mid-write

    monkeypatch.setattr("knowledge.store.BATCH", 5)  # several batches land before it fails
    monkeypatch.setattr(PassageStore, "commit", crash_halfway)
    with pytest.raises(Exception):  # noqa: B017 - whatever Chroma raises
        _run(folder, data, embedder)
    monkeypatch.undo()
    assert store.info() == info_before
    assert {r.id for r in store.load().records} == ids_before
    assert _tree(course_dir) == files_before
    assert (data / "ingest" / "demo" / "manifest.json").read_text(encoding="utf-8") == manifest
    names = [c.name for c in open_client(data / "chroma").list_collections()]
    assert sum(n.startswith("passages-") for n in names) == 1  # the partial one was dropped

    report = _run(folder, data, embedder)  # and the next run does the work
    assert report.store_changed and "minimax" in {c.id for c in load_cards([course_dir])} | {
        m[1] for m in report.merged}


def test_empty_folder_and_missing_path_are_reported(tmp_path, embedder):
    (tmp_path / "empty").mkdir()
    options = IngestOptions(course="demo", data_dir=tmp_path / "data", course_dirs=(MINI_COURSE,))
    report = ingest([tmp_path / "empty", tmp_path / "missing"], options,
                    open_client(tmp_path / "data" / "chroma"), lambda: embedder)
    reasons = {Path(f.path).name: f.reason for f in report.files}
    assert "empty folder" in reasons["empty"] and reasons["missing"] == "not found"
    assert report.passages_total == 0 and not report.new_concepts


def test_passage_aware_retrieval(ingested, embedder, tmp_path):
    from knowledge.build import build_concepts
    from knowledge.course import CONCEPTS, load_course
    from knowledge.retrieval import Retriever
    from knowledge.store import VersionedCollection

    root, *_ = ingested
    client = open_client(root / "data" / "chroma")
    cards = load_cards([MINI_COURSE, root / "data" / "courses" / "demo"])
    concepts = VersionedCollection(client, CONCEPTS)
    build_concepts(cards, embedder.name, lambda: embedder, concepts)
    retriever = Retriever(embedder, concepts, load_course(concepts))
    question = "what makes a heuristic admissible?"
    retrieval = retriever.retrieve(question, k=3)
    vec, _ = retriever.query_vector(question)
    index = load_passage_index(client)
    hits = best_passages(retrieval.concepts, vec, index)
    assert hits and hits[0].label == "Lecture 02 astar, slide 2"
    assert hits[0].concept_id == "admissible-heuristic" and hits[0].defines
    assert "never overestimates" in hits[0].text
    lines = further_reading(hits)
    assert lines[0].startswith("- Lecture 02 astar, slide 2: “")
    assert load_passage_index(client) is index  # cached until the store changes
    empty = open_client(tmp_path / "chroma")
    assert best_passages(retrieval.concepts, vec, load_passage_index(empty)) == []


def test_bench_material_keeps_the_syllabus_order(tmp_path):
    from tutor.bench.ingest import unit_order, write_material

    cards = load_cards([MINI_COURSE])
    known, notes = write_material(cards, tmp_path)
    files = sorted(p.name for p in notes.iterdir())
    assert [f.split("-", 1)[1][:-3] for f in files] == unit_order(cards)
    assert all(not c.prerequisites for c in load_cards([known]))
    shutil.rmtree(tmp_path)

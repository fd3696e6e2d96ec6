"""Ingestion a teacher can trust (issue 17), with real parts: the real MiniLM embedder,
real ChromaDB on disk and real cards of the shipped course.

Word senses ("model", "IDs", "Mac", "CV" in everyday text), page headers and headings that
are not concepts, unit titles from hashed file names, summaries without HTML, the RNN -> CLIP
claim flagged instead of suggested, and the labelled benchmark's bookkeeping.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.cards import dump_cards, load_card_file
from knowledge.chroma_client import open_client
from knowledge.ingest import evidence
from knowledge.ingest.discovery import ConceptIndex, framed_names, is_acronym
from knowledge.ingest.pipeline import IngestOptions, ingest
from knowledge.ingest.readers import pretty_title
from knowledge.ingest.senses import SenseRules

SHIPPED = Path(__file__).resolve().parents[2] / "knowledge" / "courses" / "intro_ai"
CARDS = ("model-logic", "clip", "joint-embedding-space", "embedding", "contrastive-learning",
         "multimodal-learning", "representation-learning", "recurrent-neural-network",
         "cross-validation", "validation-set", "computer-vision", "iterative-deepening-search",
         "depth-limited-search", "depth-first-search", "maintaining-arc-consistency",
         "a-star-search", "heuristic-function", "uniform-cost-search", "padding",
         "convolution-operation", "tokenization", "set-theory", "dalle-2-unclip")

LECTURE = """# Lecture 4: Informed search

## Heuristic function
A heuristic function is a function that estimates the cost of the cheapest path from a node
to a goal. Recall that iterative deepening search (IDS) repeats depth-limited search with a
growing limit; A* search adds a heuristic function to the path cost.

## Practical notes
In the lab every node gets integer IDs so that the frontier can keep them in a heap.
Students on a Mac install the lab with brew. Our model of the problem is the state graph:
a good model makes the heuristic easy to find, and the model you hand in is graded.
"""

VISION = """Project ideas

If you want to do a project in CV, I mean computer vision, like detecting cars in dashcam
images, that's fine. Put it in your CV afterwards. The mapping between student IDs and the
project groups is on the course page.
"""

TUTOR_ANSWER = """Erica - Your AI Tutor

Introduction to CLIP: A Multimodal Representation Learning Model

CLIP (Contrastive Language-Image Pre-training) learns a shared embedding space where images
and their descriptions are aligned, by contrastive learning on image-text pairs.

Prerequisites

Before diving into CLIP, it's essential to understand a few key concepts:

1. **Embedding:** A method to represent words or tokens as dense vectors.
2. **Contrastive Learning:** A machine learning approach that maps similar data points to
similar embeddings.
3. **Recurrent Neural Networks (RNNs):** A type of neural network designed to handle
sequential data.
"""

DALLE = """DALL·E

- Implementation: <a href="https://github.com/lucidrains/DALLE-pytorch">DALLE-pytorch</a>
- DALL·E network: Transformer and pretrained discrete VAE

The DALL·E network is a transformer that generates an image token by token from a text
prompt, after a discrete VAE has turned images into tokens. The DALL·E network was trained on
250 million image-text pairs from the internet.

DALL·E applications: drawing a baby shark in a wizard hat.
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course folder with real cards of the shipped course (their own links kept)."""
    cards = {c.id: c for path in sorted(SHIPPED.glob("*.yaml")) for c in load_card_file(path)}
    folder = tmp_path_factory.mktemp("course")
    picked = [cards[cid] for cid in CARDS]
    by_unit: dict[str, list] = {}
    for card in picked:
        by_unit.setdefault(card.unit, []).append(card)
    for unit, items in by_unit.items():
        (folder / f"{unit}.yaml").write_text(dump_cards(unit, items), encoding="utf-8")
    return folder


def _ingest(folder: Path, data: Path, course: Path, embedder, **options):
    opts = IngestOptions(course="teacher", data_dir=data, course_dirs=(course,), workers=1,
                         **options)
    return ingest([folder], opts, open_client(data / "chroma"), lambda: embedder)


@pytest.fixture(scope="module")
def taught(tmp_path_factory, embedder, course):
    root = tmp_path_factory.mktemp("quality")
    folder = root / "material"
    folder.mkdir()
    (folder / "10_lecture.md").write_text(LECTURE, encoding="utf-8")
    (folder / "11_projects.txt").write_text(VISION, encoding="utf-8")
    (folder / "12_answer.txt").write_text(TUTOR_ANSWER, encoding="utf-8")
    (folder / "002_ea8592a33ae0c8b7.txt").write_text(DALLE, encoding="utf-8")
    return root, _ingest(folder, root / "data", course, embedder)


def _named(report) -> set[str]:
    return set(report.material.profiles)


def test_acronyms_match_only_as_written():
    index = ConceptIndex.build([("ids", "Iterative deepening search", ("IDS",)),
                                ("mac", "Maintaining arc consistency", ("MAC",)),
                                ("map", "Mean average precision", ("mAP",))])
    assert index.mentions("node IDs and a Mac on the Romania map") == {}
    assert index.mentions("IDS beats MAC; the mAP is 0.5") == {"ids": 1, "mac": 1, "map": 1}
    assert is_acronym("CV") and is_acronym("mAP") and not is_acronym("Model")


def test_everyday_words_are_not_read_as_course_concepts(taught):
    _root, report = taught
    named = _named(report)
    assert "model-logic" not in named  # "our model of the problem", "the model you hand in"
    assert "maintaining-arc-consistency" not in named  # "on a Mac"
    assert "cross-validation" not in named  # "a project in CV, I mean computer vision"
    assert {"iterative-deepening-search", "heuristic-function", "computer-vision"} <= named
    assert report.senses["dropped_case"] >= 2 and report.senses["dropped_context"] >= 1
    every = {x.prerequisite for x in [*report.links, *report.suggestions]} | \
        {x.concept for x in [*report.links, *report.suggestions]}
    assert not every & {"model-logic", "maintaining-arc-consistency", "cross-validation"}


def test_without_the_sense_rules_the_mix_ups_come_back(tmp_path, embedder, course, taught):
    root, _report = taught
    report = _ingest(root / "material", tmp_path / "data", course, embedder,
                     senses=SenseRules(case=False, context=False, unit=False))
    named = _named(report)
    assert "model-logic" in named and "cross-validation" in named


def test_headers_and_restated_headings_are_not_new_concepts(taught):
    _root, report = taught
    assert "erica" not in report.new_concepts
    assert not any("introduction" in c for c in report.new_concepts)
    assert "dall-e-network" in report.new_concepts
    assert any(term == "Erica" for term, _why in report.not_concepts)


def test_unit_title_and_summary_come_from_the_material(taught):
    root, report = taught
    assert pretty_title(Path("002_ea8592a33ae0c8b7.txt")) == "Material 002"
    path = next(Path(report.course_dir).glob("*002*.yaml"))
    text = path.read_text(encoding="utf-8")
    assert "title: Material 002" in text and "ea 8592a" not in text
    card = next(c for c in load_card_file(path) if c.id == "dall-e-network")
    assert "<a" not in card.summary + card.explanation
    assert "http" not in card.summary + card.explanation
    assert card.summary.startswith("The DALL·E network is a transformer")


def test_a_claim_against_the_course_graph_is_flagged_not_suggested(taught):
    _root, report = taught
    flagged = {(f["prerequisite"], f["concept"]) for f in report.flags}
    assert ("recurrent-neural-network", "clip") in flagged
    suggested = {x.edge for x in [*report.links, *report.suggestions]}
    assert ("recurrent-neural-network", "clip") not in suggested
    review = (Path(report.course_dir) / "REVIEW.md").read_text(encoding="utf-8")
    assert "Recurrent neural network -> CLIP" in review


def test_framed_headings_name_known_concepts():
    assert "CLIP" in framed_names("Introduction to CLIP")
    assert "explaining away" in framed_names("Эффект объяснения (explaining away)")


def test_calibration_fit_and_confidence_bands():
    rng = np.random.default_rng(0)
    graph = rng.integers(0, 2, 400)
    y = (rng.random(400) < np.where(graph == 1, 0.95, 0.15)).astype(float)
    x = np.zeros((400, len(evidence.FEATURES)))
    x[:, evidence.FEATURES.index("graph")] = graph
    w = evidence.fit(x, y)
    feats = dict.fromkeys(evidence.FEATURES, 0.0)
    low = evidence.calibrated(feats, w)
    high = evidence.calibrated({**feats, "graph": 1.0}, w)
    assert abs(low - 0.15) < 0.08 and abs(high - 0.95) < 0.05


def test_labels_cover_the_saved_outputs():
    """The bench scores a saved output of the old version with the hand labels: nothing of it
    is unlabelled, and the numbers match what the issue found (mostly wrong)."""
    from knowledge.build import load_valid_cards
    from tutor.bench import ingest_labelled as labelled

    cards = load_valid_cards((SHIPPED,))
    for split in labelled.SPLITS:
        path = labelled.EVAL / "before" / f"{split}.json"
        assert json.loads(path.read_text(encoding="utf-8"))["suggestions"]
        m = labelled.metrics(labelled.score_saved(split, path, cards))
        assert m["unlabelled"] == 0 and m["new_concepts_unlabelled"] == 0
        assert m["precision_all"] < 0.3 and m["ece"] > 0.3

"""Card-first lessons: the sections come from the cards and the graph, the model's sentences are
checked. The model's text is the input here, so the registered fake backend stands in for the model
(the real tiny model runs in tests/test_tutor.py)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from knowledge.common.errors import BackendError
from knowledge.graph import ancestors_within
from tutor.lesson import MAX_ANSWER_SENTENCES
from tutor.llm.fake_backend import FakeBackend
from tutor.sentences import split_sentences
from tutor.tutor import Tutor

FLAGSHIP = "What is CLIP and how is it used in computer vision?"


class FailingBackend(FakeBackend):
    """The registered fake model, failing the way a dead server or a full queue does."""

    def __init__(self, fail: Exception) -> None:
        super().__init__()
        self.fail = fail

    def _stream(self, messages, max_tokens, stats, should_stop, deadline):
        raise self.fail


def _tutor(settings, reply="", fail=None) -> tuple[Tutor, FakeBackend]:
    backend = FailingBackend(fail) if fail else FakeBackend(reply)
    return Tutor(settings, backend=backend), backend


def test_card_sections_come_at_once_before_the_model(mini_settings):
    tutor, backend = _tutor(mini_settings,
                            "CLIP learns a joint embedding space for images and text.")
    pieces = iter(tutor.ask(FLAGSHIP, depth=2))
    first = next(pieces)
    assert not backend.calls  # the model has not been asked yet
    assert first.startswith("# CLIP\n")
    headings = re.findall(r"^## (.+)$", first, re.MULTILINE)
    assert headings[:4] == ["Why it matters", "Prerequisites", "Explanation", "Worked example"]
    assert "Further reading" in headings and "Next steps" in headings
    assert "400 million image-caption pairs" in first  # the card's own worked example
    rest = "".join(pieces)
    assert len(backend.calls) == 1 and "## Your question, answered" in rest
    assert "CLIP learns a joint embedding space for images and text." in rest


def test_model_sentences_the_cards_do_not_support_are_left_out(mini_settings):
    reply = ("CLIP trains an image encoder and a text encoder so that matching images and "
             "captions get a high cosine similarity. CLIP can generate captions for images. "
             "It was trained on 12 million pairs.")
    tutor, _ = _tutor(mini_settings, reply)
    lesson = tutor.ask(FLAGSHIP)
    list(lesson)
    verdicts = [c.verdict for c in lesson.checks]
    assert verdicts == ["supported", "contradicted", "unsupported"]
    assert "generate captions" not in lesson.answer and "12 million" not in lesson.answer
    assert "matching images and captions" in lesson.answer
    assert "Left out: 2 sentence(s)" in lesson.answer and "1 contradicted" in lesson.answer
    data = lesson.to_json()
    assert [c["verdict"] for c in data["checks"]] == verdicts
    assert all(0 <= c["support"] <= 1 and c["evidence"] for c in data["checks"])


def test_the_answer_stops_after_five_sentences(mini_settings):
    """The prompt asks for two to five sentences; a sixth is not waited for and frees the model."""
    reply = " ".join(f"CLIP compares image {i} with a caption." for i in range(8))
    tutor, backend = _tutor(mini_settings, reply)
    lesson = tutor.ask(FLAGSHIP)
    list(lesson)
    assert len(lesson.checks) == MAX_ANSWER_SENTENCES
    assert lesson.timings.stopped == "sentences"
    assert "image 5" not in lesson.answer and "(generation stopped)" not in lesson.answer
    assert backend.gate.waiting == 0  # the model is free: the next answer can start at once


def test_no_sentence_is_shown_twice(mini_settings):
    tutor, _ = _tutor(mini_settings, "CLIP learns a joint embedding space.")
    lesson = tutor.ask(FLAGSHIP, depth=2)
    list(lesson)
    body = lesson.markdown()
    sentences = [s for s in split_sentences(re.sub(r"^#+ .*$", "", body, flags=re.M))
                 if len(s.split()) > 5]
    assert len(sentences) == len(set(sentences)), [s for s in sentences
                                                   if sentences.count(s) > 1]


def test_prerequisites_and_next_steps_belong_to_the_concept(mini_settings):
    tutor, _ = _tutor(mini_settings)
    lesson = tutor.ask("How does zero-shot classification with cosine similarity work?",
                       depth=2, k=3)
    course = tutor.retriever.course
    by_name = {c.name: c.id for c in course.cards.values()}
    owned = prerequisites_by_owner(lesson.cards)
    assert len(owned) == len(lesson.cards.main) == 2  # both named concepts are main
    for owner, names in owned.items():
        assert names and set(names) <= {course.cards[i].name for i in
                                         ancestors_within(course.graph, [by_name[owner]], 2)}
    steps = re.findall(r"\*\*(.+?)\*\* \(builds on (.+?)\): ",
                       dict(lesson.cards.sections)["Next steps"])
    for name, base in steps:
        step = next(c for c in course.cards.values() if c.name == name)
        base_id = next(c.id for c in course.cards.values() if c.name == base)
        assert course.graph.has_edge(base_id, step.id)


def prerequisites_by_owner(cards) -> dict[str, list[str]]:
    """Names listed in the Prerequisites section, per main concept they are shown for."""
    section = dict(cards.sections)["Prerequisites"]
    blocks = re.split(r"\*\*For (.+?):\*\*", section)
    if len(blocks) == 1:
        return {cards.main[0].name: re.findall(r"\*\*(.+?)\*\* \(needed by", section)}
    return {owner: re.findall(r"\*\*(.+?)\*\* \(needed by", body)
            for owner, body in zip(blocks[1::2], blocks[2::2], strict=True)}


def test_depth_zero_says_prerequisites_are_hidden(mini_settings):
    tutor, _ = _tutor(mini_settings)
    lesson = tutor.ask(FLAGSHIP, depth=0)
    section = dict(lesson.cards.sections)["Prerequisites"]
    assert "hidden" in section and "starting point" not in section


def test_sections_the_card_lacks_are_left_out(mini_settings):
    tutor, backend = _tutor(mini_settings, "Breadth-first search expands the shallowest node.")
    lesson = tutor.ask("How does breadth-first search work?", k=1)
    headings = lesson.cards.headings()
    assert "Worked example" not in headings and "Code" not in headings
    list(lesson)
    assert "Worked example" not in lesson.markdown() and "```" not in lesson.markdown()


def test_card_code_is_shown_with_its_card(mini_settings):
    tutor, _ = _tutor(mini_settings)
    lesson = tutor.ask("How do I compute cosine similarity?", k=1)
    code = dict(lesson.cards.sections)["Code"]
    assert "```python\nimport numpy as np" in code and "card **Cosine similarity**" in code
    assert lesson.cards.code_cards == ["cosine-similarity"]


@pytest.mark.parametrize("error", [BackendError("the model server is down", "start it"),
                                   BackendError("timed out waiting for the model", "retry")])
def test_model_failure_leaves_the_card_sections_standing(mini_settings, error):
    tutor, _ = _tutor(mini_settings, fail=error)
    lesson = tutor.ask(FLAGSHIP)
    text = "".join(lesson)
    assert "## Why it matters" in text and "## Worked example" in text
    assert error.cause in lesson.answer and "card sections stand on their own" in lesson.answer
    assert lesson.timings.stopped == "error"


def test_time_limit_cuts_the_answer_not_the_lesson(mini_settings):
    slow = FakeBackend("CLIP learns a joint embedding space. " * 50)
    lesson = Tutor(runtime_settings(mini_settings, llm_timeout_s=0.001), backend=slow).ask(FLAGSHIP)
    text = "".join(lesson)
    assert "cut off by the time limit" in text and "## Next steps" in text


def runtime_settings(settings, **changes):
    from tutor.settings import replace

    return replace(settings, **changes)


def test_warm_up_is_not_reported_as_a_queue(mini_settings):
    backend = FakeBackend("CLIP learns a joint embedding space.")
    statuses: list[str] = []
    with backend.gate.hold(warmup=True):
        lesson = Tutor(mini_settings, backend=backend).ask(FLAGSHIP, on_status=statuses.append)
        done = threading.Event()

        def consume():
            list(lesson)
            done.set()

        threading.Thread(target=consume, daemon=True).start()
        deadline = time.monotonic() + 30
        while backend.gate.waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the lesson queues behind the warm-up
    assert done.wait(10)
    assert not any("ahead" in s for s in statuses), statuses
    assert any("ready" in s for s in statuses) and statuses[-1].startswith("Writing"), statuses


def test_czech_question_gets_a_czech_answer_and_the_note(mini_settings):
    tutor, _ = _tutor(mini_settings, "CLIP se učí společný prostor pro obrázky a text.")
    lesson = tutor.ask("Co je to CLIP a jak se používá?")
    assert lesson.language == "cs" and lesson.cards.main[0].id == "clip"
    assert lesson.messages[1]["content"].endswith("Answer in Czech.")
    assert "Části převzaté z poznámek kurzu jsou v angličtině." in lesson.card_markdown()
    list(lesson)
    assert lesson.checks and not tutor.checker("cs").word_rules

"""Lessons on the shipped course (a real store of all its cards; no model needed): for every
evaluation question, each prerequisite and next step shown belongs to its concept."""

from __future__ import annotations

import re

import pytest

from knowledge.evaluation import load_eval_set
from knowledge.graph import ancestors_within
from tests.conftest import built_store
from tutor.sections import compose
from tutor.settings import SHIPPED_COURSE, load_settings

DEPTH = 2


@pytest.fixture(scope="module")
def course_retriever(tmp_path_factory):
    from tutor import runtime

    with built_store(tmp_path_factory.mktemp("course-store"), SHIPPED_COURSE):
        yield runtime.retriever(load_settings())


@pytest.mark.slow
def test_prerequisites_and_next_steps_belong_to_their_concept(course_retriever):
    course = course_retriever.course
    by_name = {c.name: c.id for c in course.cards.values()}
    checked = 0
    for item in load_eval_set():
        retrieval = course_retriever.retrieve(item.question, k=5, depth=DEPTH,
                                              max_concepts=10, history=item.history)
        cards = compose(retrieval, course, DEPTH)
        sections = dict(cards.sections)
        blocks = re.split(r"\*\*For (.+?):\*\*", sections["Prerequisites"])
        owners = [cards.main[0].name] if len(blocks) == 1 else blocks[1::2]
        bodies = blocks if len(blocks) == 1 else blocks[2::2]
        for owner, body in zip(owners, bodies, strict=True):
            allowed = ancestors_within(course.graph, [by_name[owner]], DEPTH)
            for name in re.findall(r"\*\*(.+?)\*\* \(needed by", body):
                assert by_name[name] in allowed, (item.question, owner, name)
                checked += 1
        for name, base in re.findall(r"\*\*(.+?)\*\* \(builds on (.+?)\): ",
                                     sections["Next steps"]):
            assert course.graph.has_edge(by_name[base], by_name[name]), (item.question, name)
            checked += 1
    assert checked > 200

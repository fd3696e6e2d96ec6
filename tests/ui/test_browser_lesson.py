"""The lesson in a real headless Chromium, as one student sees it: the status line, a second
question sent while the first answer streams, prerequisites shown for their concept."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, erica_env, free_port, running_server
from tests.ui.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lesson_app(tmp_path_factory, mini_store: Path):
    """The app with a longer model answer (400 tokens), so a second question can arrive while
    the first answer is still being written."""
    port = free_port()
    env = {**os.environ, **erica_env(mini_store, ERICA_MAX_TOKENS="400"), "ERICA_CONFIG": ""}
    log = tmp_path_factory.mktemp("ui-lesson") / "streamlit.log"
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tutor.cli", "ui", "--port", str(port)]
    with running_server(command, f"{url}/_stcore/health", log, "erica ui", cwd=ROOT, env=env):
        yield url


def _send(page, question: str) -> None:
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.wait_for(timeout=120_000)
    box.fill(question)
    box.press("Enter")


def _status_labels(page) -> list[str]:
    return page.locator('[data-testid="stExpander"] summary').all_inner_texts()


def test_one_student_never_sees_a_queue(lesson_app, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(lesson_app)
    _send(page, "What is CLIP and how is it used in computer vision?")
    seen: set[str] = set()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        seen.update(_status_labels(page))
        if any("Answered from the course" in label for label in seen):
            break
        time.sleep(0.3)
    assert any("Answered from the course" in label for label in seen), seen
    assert not any("ahead" in label or "Queued" in label for label in seen), seen
    body = page.inner_text("body")
    assert "Your question, answered" in body and "Why it matters" in body
    assert "needed by CLIP" in body  # prerequisites are shown for their concept
    assert "Traceback" not in body
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson.png"), full_page=True)
    page.close()


def test_second_question_mid_answer_keeps_both_answers(lesson_app, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(lesson_app)
    _send(page, "What is CLIP?")
    page.get_by_text("Why it matters").first.wait_for(timeout=240_000)  # cards are shown
    _send(page, "How does A* search use a heuristic?")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if any("Answered from the course" in label for label in _status_labels(page)) \
                and page.get_by_text("A* search").count():
            break
        time.sleep(0.5)
    replies = page.locator('[data-testid="stChatMessage"]').all_inner_texts()
    assert len(replies) == 4, replies  # two questions, two answers
    assert "Why it matters" in replies[1] and "Why it matters" in replies[3]
    assert "CLIP" in replies[1] and "A* search" in replies[3]
    page.close()

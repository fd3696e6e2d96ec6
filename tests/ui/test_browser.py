"""A real headless Chromium (Debian's) against the running app: `erica ui` as users start it."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.ui.conftest import ARTIFACTS


def _ask(page, url: str, question: str) -> None:
    page.goto(url)
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.wait_for(timeout=120_000)
    box.fill(question)
    box.press("Enter")


def test_ask_in_a_real_browser(running_app, browser):
    url, _ = running_app
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _ask(page, url, "What is CLIP and how is it used in computer vision?")
    page.get_by_text("Further reading").wait_for(timeout=240_000)
    body = page.inner_text("body")
    assert "Erica - Your AI Tutor" in body and "Concepts in ChromaDB" in body
    assert "Prerequisites" in body and "Contrastive learning" in body
    assert "Traceback" not in body
    page.get_by_text("View Retrieved Context").first.click()
    page.get_by_text("Learning-path order").wait_for(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000
    page.close()


def test_eight_students_at_once(running_app, browser):
    """Eight sessions ask together; every one gets its answer and the app survives."""
    url, _ = running_app
    contexts = [browser.new_context() for _ in range(8)]
    pages = [c.new_page() for c in contexts]
    topics = ["breadth-first search", "A* search", "CLIP", "cosine similarity",
              "softmax", "transformers", "embeddings", "contrastive learning"]
    for page, topic in zip(pages, topics, strict=True):
        _ask(page, url, f"What is {topic}?")
    for page in pages:
        page.get_by_text("Further reading").wait_for(timeout=400_000)
        assert "Traceback" not in page.inner_text("body")
    assert httpx.get(f"{url}/_stcore/health", timeout=5).status_code == 200
    for c in contexts:
        c.close()


def test_binds_to_loopback_only(running_app):
    _, port = running_app
    addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None,
                                                            socket.AF_INET)}
    outside = [a for a in addresses if not a.startswith("127.")]
    if not outside:
        pytest.skip("this machine has no non-loopback IPv4 address to test from")
    with pytest.raises(OSError), socket.create_connection((outside[0], port), timeout=2):
        pass

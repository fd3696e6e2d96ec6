"""A real headless Chromium (Debian's) against the running app: `erica ui` as users start it."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, erica_env, free_port, running_server

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def running_app(tmp_path_factory, mini_store: Path):
    port = free_port()
    env = {**os.environ, **erica_env(mini_store), "ERICA_CONFIG": ""}
    log = tmp_path_factory.mktemp("ui") / "streamlit.log"
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tutor.cli", "ui", "--port", str(port)]
    with running_server(command, f"{url}/_stcore/health", log, "erica ui", cwd=ROOT, env=env):
        yield url, port


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: scripts/setup.sh --test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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

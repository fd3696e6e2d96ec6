"""Browser fixtures: `erica ui` started as users start it, and Debian's headless Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, erica_env, free_port, running_server

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def erica_ui(data_dir: Path, log: Path) -> Iterator[tuple[str, int]]:
    """`erica ui` on a free port over ``data_dir``; yields its URL and port."""
    port = free_port()
    env = {**os.environ, **erica_env(data_dir), "ERICA_CONFIG": ""}
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tutor.cli", "ui", "--port", str(port)]
    with running_server(command, f"{url}/_stcore/health", log, "erica ui", cwd=ROOT, env=env):
        yield url, port


@pytest.fixture(scope="module")
def running_app(tmp_path_factory, mini_store: Path):
    with erica_ui(mini_store, tmp_path_factory.mktemp("ui") / "streamlit.log") as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: scripts/setup.sh --test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()

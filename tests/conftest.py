"""Shared fixtures: real models (the small packaged ones), real ChromaDB folders under tmp."""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

ROOT = Path(__file__).resolve().parent.parent
MINI_COURSE = ROOT / "tests" / "fixtures" / "mini_course"
TINY_MODEL = "smollm2-135m"
# Models derived from packaged weights (the int8 embedder) are shared by every test's data
# folder, like pip's cache; tests/test_onnx_embedding.py prepares one in a fresh folder.
TEST_MODELS = ROOT / ".pytest_cache" / "erica-models"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ERICA_* leaks in from the machine; settings files are not picked up."""
    for key in list(os.environ):
        if key.startswith("ERICA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ERICA_CONFIG", "")
    monkeypatch.setenv("ERICA_BENCH_DIR", str(tmp_path / "bench"))


def erica_env(data_dir: Path, course: Path = MINI_COURSE, **extra: str) -> dict[str, str]:
    env = {"ERICA_DATA_DIR": str(data_dir), "ERICA_MODELS_DIR": str(TEST_MODELS),
           "ERICA_COURSE_DIRS": str(course),
           "ERICA_LLM_MODEL": TINY_MODEL, "ERICA_MAX_TOKENS": "48"}
    env.update(extra)
    return env


@pytest.fixture
def use_env(monkeypatch: pytest.MonkeyPatch):
    """Apply an ERICA_* environment (from :func:`erica_env`) for one test."""

    def apply(env: dict[str, str]) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    return apply


@pytest.fixture(scope="session")
def mini_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the mini course, built once per session with the real embedder."""
    data_dir = tmp_path_factory.mktemp("mini-store")
    with built_store(data_dir):
        pass
    return data_dir


@contextlib.contextmanager
def built_store(data_dir: Path, course: Path = MINI_COURSE):
    """Build ``course`` into ``data_dir`` with the real embedder; its ERICA_* environment
    applies inside the ``with`` block (for session- and module-scoped fixtures)."""
    from tutor.cli import main

    env = erica_env(data_dir, course)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["kb", "build"]) == 0
        yield data_dir
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def mini_settings(mini_store: Path, use_env):
    from tutor.settings import load_settings

    use_env(erica_env(mini_store))
    return load_settings()


@pytest.fixture(scope="session")
def tiny_backend():
    """The real SmolLM2-135M model in process, loaded once for the session."""
    import tempfile

    from tutor.llm.llama_cpp_backend import LlamaCppBackend
    from tutor.llm.packaged import resolve_gguf

    path = resolve_gguf(TINY_MODEL, Path(tempfile.mkdtemp(prefix="erica-models-")))
    return LlamaCppBackend(path, n_ctx=2048, n_threads=2, label=TINY_MODEL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(command: list[str], health_url: str, log: Path, name: str,
                   timeout_s: float = 120, **popen):
    """Start a real server process, wait until ``health_url`` answers 200, stop it after.

    Its output goes to ``log``, whose tail is shown if it exits or never becomes healthy.
    """
    import subprocess
    import time

    import httpx

    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(health_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
            if proc.poll() is not None:
                pytest.fail(f"{name} exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not start in {timeout_s:.0f} s: {log.read_text()[-2000:]}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


# ------------------------------------------------------------------ the bad-input catalogue
# `pytest -m catalogue` runs every test marked ``@pytest.mark.catalogue(case="...")`` and
# ends with a table of case -> outcome (scripts/catalogue.sh runs it).

def catalogue_case(item: pytest.Item) -> tuple[str, str] | None:
    """(case, expected behaviour) of a catalogue test; a parametrised test adds its id."""
    marker = item.get_closest_marker("catalogue")
    if marker is None:
        return None
    case = marker.kwargs.get("case") or (marker.args[0] if marker.args else item.name)
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        case = f"{case} [{callspec.id}]"
    return case, marker.kwargs.get("expect", "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    found = catalogue_case(item)
    if found is not None:
        report = outcome.get_result()
        report.catalogue_case, report.catalogue_expect = found


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    rows: dict[str, list[str]] = {}  # nodeid -> [case, expect, outcome]
    for reports in terminalreporter.stats.values():
        for report in reports:
            case = getattr(report, "catalogue_case", None)
            if case is None:
                continue
            row = rows.setdefault(report.nodeid, [case, report.catalogue_expect, "passed"])
            if report.failed:
                row[2] = "FAILED" if report.when == "call" else f"ERROR in {report.when}"
            elif report.skipped and row[2] == "passed":
                row[2] = "skipped"
    if not rows:
        return
    width = min(60, max(len(case) for case, _, _ in rows.values()))
    terminalreporter.section("bad-input catalogue: case -> outcome")
    for case, expect, result in sorted(rows.values()):
        detail = f"  ({expect})" if expect and result == "passed" else ""
        terminalreporter.write_line(f"{case:<{width}} -> {result}{detail}")
    passed = sum(r[2] == "passed" for r in rows.values())
    terminalreporter.write_line(f"{passed} of {len(rows)} cases behave as expected")

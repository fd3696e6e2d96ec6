"""A whole class at once (issue 16): the real llama.cpp server (``llama-server``, built by
``scripts/setup.sh --test``) with the small packaged model on a free loopback port.

Parallel slots admit that many students without a queue; the same lesson streams the same
way as from the in-process model; a server that is down, dies mid-answer, answers garbage or
gets a prompt larger than its context gives each student a clear message while the card
sections still show; a restarted server is picked up by the same backend object.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from knowledge.common.errors import BackendError
from tests.conftest import MINI_COURSE, ROOT, TINY_MODEL, erica_env, free_port
from tutor.llm.base import GenerationGate
from tutor.llm.http_backend import OpenAIHttpBackend
from tutor.llm.llama_server import ServerConfig, ServerProcess, find_binary
from tutor.llm.packaged import resolve_gguf
from tutor.settings import replace
from tutor.tutor import Tutor

BINARY = find_binary()
needs_server = pytest.mark.skipif(
    BINARY is None, reason="llama.cpp's llama-server is not built: run `bash scripts/setup.sh "
    "--test` (or --server); it is cached under ~/.cache/erica/llama-server")
HELLO = [{"role": "user", "content": "Say hello in five words."}]
QUESTION = "What is CLIP?"


def _config(tmp: Path, slots: int, slot_context: int = 2048, port: int | None = None):
    model = resolve_gguf(TINY_MODEL, tmp)
    return ServerConfig(binary=BINARY, model=model, slots=slots, slot_context=slot_context,
                        port=port or free_port(), threads=2, alias=TINY_MODEL)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One llama-server with 4 slots for the module."""
    tmp = tmp_path_factory.mktemp("llama-server")
    with ServerProcess(_config(tmp, slots=4), log_file=tmp / "server.log").start() as proc:
        yield proc


def _tutor(settings, url: str) -> Tutor:
    return Tutor(replace(settings, llm_backend="openai-http", llm_url=url, max_tokens=24))


# ------------------------------------------------------------------ the queue (no server)

def test_gate_admits_capacity_at_once_and_says_roughly_how_long_the_rest_wait():
    gate = GenerationGate(capacity=2)
    gate._durations.extend([30.0, 30.0])  # recent answers took 30 s each
    waits: list[int] = []
    entered, release = threading.Event(), threading.Event()

    def third() -> None:
        with gate.hold(on_wait=waits.append):
            entered.set()
            release.wait(5)

    with gate.hold(on_wait=waits.append), gate.hold(on_wait=waits.append):
        assert waits == [] and gate.active == 2  # two slots: nobody waited
        t = threading.Thread(target=third)
        t.start()
        time.sleep(0.2)
        assert waits == [1] and gate.waiting == 3 and not entered.is_set()
        assert gate.wait_estimate_s(1) == 15.0  # one answer ahead, two slots
    assert entered.wait(2) and gate.active == 1  # a slot came free: the third went in
    release.set()
    t.join(2)
    assert gate.waiting == 0


# ------------------------------------------------------------------ the real server

@needs_server
def test_the_server_reports_its_slots_and_takes_that_many_at_once(server):
    backend = OpenAIHttpBackend(server.config.url, timeout_s=60)
    backend.warm([])
    assert backend.info.slots == 4 and backend.gate.capacity == 4
    assert backend.info.slot_context == 2048 and TINY_MODEL in backend.model_name
    waited: list[int] = []
    replies: list[str] = []
    started: list[float] = []

    def ask() -> None:
        started.append(time.perf_counter())
        replies.append("".join(backend.stream_chat(HELLO, max_tokens=24,
                                                   on_wait=waited.append)))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replies) == 4 and all(r.strip() for r in replies)
    assert waited == []  # four students, four slots: no queue line


@needs_server
def test_the_same_lesson_streams_the_same_way_from_either_backend(server, mini_settings,
                                                                   tiny_backend):
    local = Tutor(replace(mini_settings, max_tokens=24), backend=tiny_backend).ask(QUESTION)
    remote = _tutor(mini_settings, server.config.url).ask(QUESTION)
    assert remote.messages == local.messages  # the same prompt goes to both
    assert remote.card_markdown() == local.card_markdown()
    for lesson in (local, remote):
        pieces = list(lesson.answer_pieces())
        assert lesson.error is None and lesson.timings.first_token_s is not None
        assert lesson.timings.completion_tokens > 3 and lesson.checks
        assert "".join(pieces) == lesson.answer  # streamed piece by piece, as shown
    assert remote.markdown().split(f"## {'Your question, answered'}")[0] \
        == local.markdown().split(f"## {'Your question, answered'}")[0]
    assert TINY_MODEL in remote.model_name


@needs_server
@pytest.mark.catalogue(case="class server: prompt larger than a slot's context",
                       expect="refused with the sizes and the fix; card sections shown")
def test_a_request_larger_than_the_context_is_refused_clearly(server, mini_settings):
    backend = OpenAIHttpBackend(server.config.url, timeout_s=60)
    huge = [{"role": "user", "content": "neural network gradient " * 1500}]
    with pytest.raises(BackendError) as err:
        list(backend.stream_chat(huge, max_tokens=8))
    assert "larger than the language-model server's context window" in err.value.cause
    assert "2048" in err.value.cause and "--slot-context" in err.value.fix
    tutor = _tutor(mini_settings, server.config.url)
    lesson = tutor.ask(QUESTION)
    lesson.messages[-1]["content"] += " background" * 2500
    list(lesson.answer_pieces())
    assert lesson.error is not None and "context window" in lesson.notice
    assert "## " in lesson.card_markdown()  # the card sections stand


@needs_server
@pytest.mark.catalogue(case="class server: dies mid-answer, then restarted",
                       expect="a clear message; the same backend uses the new server")
def test_a_server_that_dies_mid_answer_then_restarts_is_picked_up(tmp_path, mini_settings):
    config = _config(tmp_path, slots=2)
    tutor = _tutor(mini_settings, config.url)
    long_reply = [{"role": "user", "content": "Write a very long story about a robot who "
                   "learns search algorithms, chapter by chapter."}]
    with ServerProcess(config, log_file=tmp_path / "a.log").start() as first:
        backend = tutor.backend
        got: list[str] = []
        with pytest.raises(BackendError) as err:
            for piece in backend.stream_chat(long_reply, max_tokens=2000):
                got.append(piece)
                if len(got) == 2:
                    first.proc.kill()
        assert got and "stopped in the middle of the answer" in err.value.cause
        assert "restarted" in err.value.fix
    lesson = tutor.ask(QUESTION)  # nobody is listening now
    assert "## " in lesson.card_markdown()
    notes = "".join(lesson.answer_pieces())
    assert "cannot be reached" in notes and "erica serve" in notes
    restarted = dataclasses.replace(config, slots=3)
    with ServerProcess(restarted, log_file=tmp_path / "b.log").start():
        lesson = tutor.ask(QUESTION)
        list(lesson.answer_pieces())
        assert lesson.error is None and lesson.timings.completion_tokens > 0
        assert tutor.backend is backend and backend.gate.capacity == 3  # its new slots


class _Garbage(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - /props of a proxy that is not llama.cpp
        self.send_response(404)
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>502 Bad Gateway</body></html>\n")


@pytest.mark.catalogue(case="class server: answers garbage",
                       expect="each student gets a clear message; card sections shown")
def test_a_server_answering_garbage_leaves_the_cards_and_a_message(mini_settings):
    garbage = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=garbage.serve_forever, daemon=True).start()
    try:
        tutor = _tutor(mini_settings, f"http://127.0.0.1:{garbage.server_address[1]}")
        lessons = [tutor.ask(QUESTION) for _ in range(3)]
        notes = [("".join(lesson.answer_pieces()), lesson) for lesson in lessons]
    finally:
        garbage.shutdown()
    for text, lesson in notes:
        assert "malformed answer" in text and "The card sections stand on their own" in text
        assert "## " in lesson.card_markdown()


@needs_server
def test_erica_serve_then_erica_ask_against_it(tmp_path, mini_store, use_env, capsys):
    """The one-machine class setup as documented: `erica serve` on loopback, then the CLI
    pointed at it by ERICA_* settings."""
    from tutor.cli import main

    port = free_port()
    env = {**os.environ, **erica_env(mini_store), "ERICA_CONFIG": ""}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen([sys.executable, "-m", "tutor.cli", "serve", "--slots", "2",
                                  "--slot-context", "2048", "--port", str(port)],
                                 stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", serve, log)
        assert "ERICA_LLM_URL=http://127.0.0.1:" in log.read_text()
        assert "--host 127.0.0.1" in " ".join(_cmdline(serve.pid))  # loopback by default
        use_env(erica_env(mini_store, ERICA_LLM_BACKEND="openai-http", ERICA_MAX_TOKENS="24",
                          ERICA_LLM_URL=f"http://127.0.0.1:{port}"))
        assert main(["ask", QUESTION]) == 0
        out = capsys.readouterr()
        assert "Your question, answered" in out.out and "could not answer" not in out.out
        assert f"{TINY_MODEL} @ http://127.0.0.1:{port}" in out.err
    finally:
        serve.terminate()
        serve.wait(30)


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} never became healthy: {log.read_text()[-2000:]}")


@needs_server
def test_several_hosts_on_loopback_chroma_server_and_llm_server(tmp_path, server):
    """The multi-host setup of the README, each part on its own port of 127.0.0.1: the store
    in a Chroma server, the model in llama.cpp's server, Erica's CLI on neither."""
    import shutil

    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(tmp_path / "chroma.log", "wb") as out:
        proc = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "store"), "--host",
                                 "127.0.0.1", "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            assert time.monotonic() < deadline and proc.poll() is None
        env = {**os.environ, **erica_env(tmp_path / "client", MINI_COURSE), "ERICA_CONFIG": "",
               "ERICA_CHROMA_URL": url, "ERICA_LLM_BACKEND": "openai-http",
               "ERICA_MAX_TOKENS": "24",
               "ERICA_LLM_URL": server.config.url}
        run = [sys.executable, "-m", "tutor.cli"]
        build = subprocess.run([*run, "kb", "build"], capture_output=True, text=True,
                               cwd=ROOT, env=env, timeout=300)
        assert build.returncode == 0, build.stderr
        ask = subprocess.run([*run, "ask", QUESTION], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=180)
        assert ask.returncode == 0 and "Your question, answered" in ask.stdout, ask.stderr
        assert "could not answer" not in ask.stdout
        assert not (tmp_path / "client" / "chroma").exists()  # nothing stored locally
    finally:
        proc.terminate()
        proc.wait(30)


@needs_server
def test_erica_serve_ui_starts_both_and_stops_both(tmp_path, mini_store):
    """`erica serve --ui`: the one command of the README; `kill` stops the server and the UI."""
    llm_port, ui_port = free_port(), free_port()
    env = {**os.environ, **erica_env(mini_store), "ERICA_CONFIG": "",
           "ERICA_UI_PORT": str(ui_port)}
    log = tmp_path / "serve-ui.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen([sys.executable, "-m", "tutor.cli", "serve", "--slots", "2",
                                  "--port", str(llm_port), "--ui"],
                                 stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    children: list[int] = []
    try:
        _wait_healthy(f"http://127.0.0.1:{llm_port}", serve, log)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{ui_port}/_stcore/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            assert time.monotonic() < deadline and serve.poll() is None, log.read_text()
        children = [int(p) for p in Path(f"/proc/{serve.pid}/task/{serve.pid}/children")
                    .read_text().split()]
        assert len(children) == 2  # llama-server and streamlit
    finally:
        serve.terminate()
        serve.wait(60)
    time.sleep(1)
    assert not [p for p in children if Path(f"/proc/{p}").exists()
                and "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]]

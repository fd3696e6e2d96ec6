"""Backends built from settings, the fake backend, and hostile OpenAI-compatible servers.

The hostile servers are real HTTP servers on 127.0.0.1 (a thread of this process) that answer
the way broken or malicious servers do: keep-alive trickles, silence, garbage and malformed
chunks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from knowledge.common.errors import BackendError
from tutor.llm.base import GenerationStats
from tutor.llm.chunks import chunk_pieces
from tutor.llm.factory import available_backends, create_backend, get_backend
from tutor.llm.fake_backend import NOT_COVERED, FakeBackend
from tutor.llm.http_backend import OpenAIHttpBackend
from tutor.settings import Settings

COURSE_PROMPT = [
    {"role": "system", "content": "You are Erica."},
    {"role": "user", "content": "<course>\n[A* search] A* expands the node with the lowest "
     "f = g + h. It is optimal with an admissible heuristic.\n[Heuristic] A heuristic "
     "estimates the cost to the goal.\n</course>\nQuestion: What is A*?"},
]


# ------------------------------------------------------------------------- the fake backend

def test_fake_backend_copies_course_sentences_in_small_pieces():
    backend = FakeBackend()
    stats = GenerationStats()
    pieces = list(backend.stream_chat(COURSE_PROMPT, max_tokens=200, stats=stats))
    text = "".join(pieces)
    assert text.splitlines() == ["A* expands the node with the lowest f = g + h.",
                                 "It is optimal with an admissible heuristic.",
                                 "A heuristic estimates the cost to the goal."]
    assert len(pieces) > 10 and stats.completion_tokens == len(pieces)
    assert "".join(FakeBackend().stream_chat(COURSE_PROMPT)) == text  # deterministic
    assert backend.calls == [COURSE_PROMPT]


def test_fake_backend_custom_reply_limits_and_no_course():
    assert "".join(FakeBackend("Hello there.").stream_chat(COURSE_PROMPT)) == "Hello there."
    echo = FakeBackend(lambda messages: messages[-1]["content"].upper())
    assert "".join(echo.stream_chat([{"role": "user", "content": "hi"}])) == "HI"
    stats = GenerationStats()
    assert len(list(FakeBackend().stream_chat(COURSE_PROMPT, max_tokens=3, stats=stats))) == 3
    assert stats.stopped == "length"
    assert "".join(FakeBackend().stream_chat([{"role": "user", "content": "x"}])) \
        == NOT_COVERED


def test_backends_build_themselves_from_settings(tmp_path):
    assert {"fake", "llama-cpp", "openai-http"} <= set(available_backends())
    fake = Settings(data_dir=tmp_path, llm_backend="fake")
    assert isinstance(create_backend(fake), FakeBackend)
    assert get_backend(fake) is get_backend(fake)  # one per process
    http = create_backend(Settings(data_dir=tmp_path, llm_backend="openai-http",
                                   llm_url="http://127.0.0.1:9/v1", llm_timeout_s=7))
    assert isinstance(http, OpenAIHttpBackend) and http.base_url == "http://127.0.0.1:9"
    assert http.model == ""  # the default in-process model name is not sent to a server
    with pytest.raises(BackendError, match="unknown LLM backend 'nope'") as err:
        create_backend(Settings(data_dir=tmp_path, llm_backend="nope"))
    assert "fake" in err.value.fix


def test_fake_backend_from_the_environment(monkeypatch, tmp_path):
    from tutor.settings import load_settings

    monkeypatch.setenv("ERICA_LLM_BACKEND", "fake")
    monkeypatch.setenv("ERICA_DATA_DIR", str(tmp_path))
    assert isinstance(get_backend(load_settings()), FakeBackend)


# ------------------------------------------------------------------------- one chunk parser

@pytest.mark.parametrize("chunk", [123, "x", None, [1], {"choices": ["x"]},
                                   {"choices": "x"}, {"choices": [{"delta": 5}]},
                                   {"choices": [{"delta": {"content": 7}}]}])
def test_malformed_chunks_are_backend_errors(chunk):
    with pytest.raises(BackendError, match="malformed"):
        list(chunk_pieces(chunk, GenerationStats()))


def test_chunk_parser_reads_pieces_usage_and_length():
    stats = GenerationStats()
    chunk = {"choices": [{"delta": {"content": "Hi"}, "finish_reason": "length"}],
             "usage": {"prompt_tokens": 12}}
    assert list(chunk_pieces(chunk, stats)) == ["Hi"]
    assert (stats.prompt_tokens, stats.completion_tokens, stats.stopped) == (12, 1, "length")


# ------------------------------------------------------------------------- hostile servers

def _event(content: str) -> bytes:
    return f"data: {json.dumps({'choices': [{'delta': {'content': content}}]})}\n\n".encode()


class _Hostile(BaseHTTPRequestHandler):
    """Answers POST /<mode>/v1/chat/completions the way <mode> says."""

    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.path.strip("/").split("/")[0]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for block in self.server.modes[mode]():  # type: ignore[attr-defined]
                self.wfile.write(block)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def _trickle(line: bytes) -> Iterator[bytes]:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        yield line
        time.sleep(0.2)


MODES = {
    "ok": lambda: iter([_event("Hel"), _event("lo"), b"data: [DONE]\n\n"]),
    "keepalive": lambda: _trickle(b"\n"),
    "comments": lambda: _trickle(b": keep-alive\n\n"),
    "content-then-comments": lambda: iter([_event("Hi"), *_trickle(b": ping\n")]),
    "silent": lambda: (time.sleep(30), iter([]))[1],
    "garbage": lambda: iter([b"<html><body>502 Bad Gateway</body></html>\n"]),
    "empty": lambda: iter([]),
    "int": lambda: iter([b"data: 123\n\n", b"data: [DONE]\n\n"]),
    "strings": lambda: iter([b'data: {"choices":["x"]}\n\n', b"data: [DONE]\n\n"]),
    "notjson": lambda: iter([b"data: {oops\n\n"]),
    "done-only": lambda: iter([b"data: [DONE]\n\n"]),
}


@pytest.fixture(scope="module")
def hostile_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.modes = MODES  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_good_stream_still_streams(hostile_url):
    backend = OpenAIHttpBackend(f"{hostile_url}/ok", timeout_s=10)
    assert "".join(backend.stream_chat([{"role": "user", "content": "hi"}])) == "Hello"


@pytest.mark.catalogue
@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["keepalive", "comments", "content-then-comments", "silent"])
def test_the_time_limit_is_a_wall_clock_deadline(hostile_url, mode):
    """A server that trickles keep-alives (or says nothing) cannot hold the model slot."""
    backend = OpenAIHttpBackend(f"{hostile_url}/{mode}", timeout_s=30)
    stats = GenerationStats()
    start = time.perf_counter()
    try:
        list(backend.stream_chat([{"role": "user", "content": "hi"}], timeout_s=1.5,
                                 stats=stats))
    except BackendError as exc:
        assert "timed out" in exc.cause
    else:
        assert stats.stopped == "timeout"
    assert time.perf_counter() - start < 4
    assert backend.gate.waiting == 0  # the slot is free again


@pytest.mark.catalogue
@pytest.mark.parametrize("mode", ["garbage", "empty", "int", "strings", "notjson",
                                  "done-only"])
def test_a_malformed_answer_is_a_clear_error(hostile_url, mode):
    backend = OpenAIHttpBackend(f"{hostile_url}/{mode}", timeout_s=10)
    with pytest.raises(BackendError, match="malformed answer") as err:
        list(backend.stream_chat([{"role": "user", "content": "hi"}]))
    assert "OpenAI chat-completions" in err.value.fix


def test_a_lesson_written_by_the_fake_backend(mini_settings):
    """Lesson logic without a model: the fake copies the course block into the lesson."""
    from tutor.settings import replace
    from tutor.tutor import Tutor

    tutor = Tutor(replace(mini_settings, llm_backend="fake"))
    assert isinstance(tutor.backend, FakeBackend)
    lesson = tutor.ask("What is CLIP?")
    text = "".join(lesson)
    copied = "".join(FakeBackend().stream_chat(lesson.messages))
    assert lesson.covered and copied.splitlines()[0] in text
    assert lesson.timings.completion_tokens > 5

"""Language-model servers that fail or hang, and model paths that are wrong (issue 15, item 6
and the LLM part of the catalogue). The servers are tiny real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from knowledge.common.errors import BackendError, ModelError
from tutor.llm.http_backend import OpenAIHttpBackend
from tutor.llm.packaged import resolve_gguf

HELLO = [{"role": "user", "content": "Name three colours."}]


@contextlib.contextmanager
def serving(respond) -> Iterator[str]:
    """A local HTTP server whose POST handler is ``respond(handler)``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            respond(self)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.catalogue(case="LLM server: fails (HTTP 500)", expect="BackendError with status")
def test_failing_server_is_a_clear_error():
    def fail(handler):
        body = b'{"error": "model crashed"}'
        handler.send_response(500)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with serving(fail) as url, pytest.raises(BackendError) as err:
        list(OpenAIHttpBackend(url, timeout_s=10).stream_chat(HELLO, max_tokens=5))
    assert "500" in err.value.cause and err.value.fix


@pytest.mark.catalogue(case="LLM server: hangs (accepts, never answers)",
                       expect="BackendError after the time limit")
def test_hanging_server_times_out():
    release = threading.Event()

    def hang(handler):
        release.wait(120)

    with serving(hang) as url:
        started = time.monotonic()
        try:
            with pytest.raises(BackendError) as err:
                list(OpenAIHttpBackend(url, timeout_s=2).stream_chat(HELLO, max_tokens=5,
                                                                     timeout_s=2))
        finally:
            release.set()
    assert time.monotonic() - started < 60  # bounded by the limit, not by the server
    assert "timed out" in err.value.cause and "ERICA_LLM_TIMEOUT_S" in err.value.fix


@pytest.mark.catalogue(case="model path: missing .gguf file", expect="'not found'")
def test_missing_gguf_path_says_not_found(tmp_path: Path):
    with pytest.raises(ModelError) as err:
        resolve_gguf(str(tmp_path / "models" / "mistral.gguf"), tmp_path)
    assert "not found" in err.value.cause and "not a .gguf" not in err.value.cause
    with pytest.raises(ModelError, match="not found"):
        resolve_gguf(str(tmp_path / "no-suffix-model"), tmp_path)  # a path, not a name


@pytest.mark.catalogue(case="model path: folder or non-GGUF file named .gguf")
def test_folder_or_other_file_named_gguf(tmp_path: Path):
    (tmp_path / "dir.gguf").mkdir()
    with pytest.raises(ModelError, match="is a folder"):
        resolve_gguf(str(tmp_path / "dir.gguf"), tmp_path)
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"<html>404 Not Found</html>")  # a failed download, saved as .gguf
    with pytest.raises(ModelError, match="not a GGUF model file") as err:
        resolve_gguf(str(fake), tmp_path)
    assert "GGUF" in err.value.fix

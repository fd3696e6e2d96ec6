"""Run one course card's code snippet and record what each of its lines printed.

A standalone script (standard library only): it is started as ``python -I code_runner.py``,
so it must not import the project. Two modes:

- ``code_runner.py run SNIPPET RESULT``: execute the snippet file once in this process.
- ``code_runner.py serve MODULE...``: import the modules once (numpy, torch, ...), then read
  jobs as JSON lines on stdin (``{"snippet", "result", "stdout", "stderr", "timeout_s"}``);
  each job runs in a freshly forked child, with its own namespace and working directory, so
  one snippet cannot affect another; the server answers one JSON line per job
  (``{"returncode", "timed_out", "duration_s"}``). This only saves the import time.

The snippet runs as ``__main__`` with the network disabled (sockets refuse to connect) and
stdin empty. ``print`` is wrapped to record ``[line, text]`` for every call made from the
snippet's own code; the records go to RESULT as JSON, read by ``knowledge.code_check``.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import signal
import socket
import sys
import tempfile
import time
import traceback

SNIPPET_FILENAME = "<card code>"


class NetworkDisabledError(OSError):
    """Raised when course code tries to open a network connection."""


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise NetworkDisabledError("course code must run offline: network access is disabled")


def _disable_network() -> None:
    socket.socket.connect = _refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = _refuse  # type: ignore[method-assign]
    socket.create_connection = _refuse  # type: ignore[assignment]
    socket.getaddrinfo = _refuse  # type: ignore[assignment]


def _reseed() -> None:
    """Give a forked child fresh random state, as a new interpreter would have."""
    import random

    random.seed()
    for name in ("numpy", "torch"):
        module = sys.modules.get(name)
        if module is None:
            continue
        if name == "numpy":
            module.random.seed(int.from_bytes(os.urandom(4), "little"))
        else:
            module.seed()


def _execute(snippet_path: str, result_path: str) -> int:
    """Run the snippet in a fresh ``__main__`` namespace; return the exit status."""
    with open(snippet_path, encoding="utf-8") as fh:
        source = fh.read()
    records: list[list[object]] = []
    real_print = builtins.print

    def recording_print(*args: object, **kwargs: object) -> None:
        frame = sys._getframe(1)
        if frame.f_code.co_filename == SNIPPET_FILENAME and kwargs.get("file") is None:
            buffer = io.StringIO()
            real_print(*args, **{**kwargs, "file": buffer})
            records.append([frame.f_lineno, buffer.getvalue()])
        real_print(*args, **kwargs)

    builtins.print = recording_print
    status = 0
    try:
        code = compile(source, SNIPPET_FILENAME, "exec")
        exec(code, {"__name__": "__main__", "__builtins__": builtins})  # noqa: S102
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - any failure of the snippet is its result
        traceback.print_exc()
        status = 1
    finally:
        builtins.print = real_print
        sys.stdout.flush()
        sys.stderr.flush()
        with open(result_path, "w", encoding="utf-8") as fh:
            json.dump({"prints": records}, fh)
    return status


def _prepare_process() -> None:
    _disable_network()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def run_once(snippet_path: str, result_path: str) -> int:
    """``run`` mode: the caller already gave this process its cwd, env and time limit."""
    _prepare_process()
    return _execute(snippet_path, result_path)


def _run_forked(job: dict[str, object]) -> dict[str, object]:
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: a fresh process image of the server, then the snippet
        status = 1
        try:
            os.setsid()
            for fd, key in ((1, "stdout"), (2, "stderr")):
                out = os.open(str(job[key]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(out, fd)
                os.close(out)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), line_buffering=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), line_buffering=True)
            workdir = tempfile.mkdtemp(prefix="card-code-")
            os.chdir(workdir)
            for key in ("HOME", "TMPDIR"):
                os.environ[key] = workdir
            os.environ["TORCH_HOME"] = os.path.join(workdir, "torch")
            tempfile.tempdir = workdir
            _prepare_process()
            _reseed()
            status = _execute(str(job["snippet"]), str(job["result"]))
        finally:
            os._exit(status)
    deadline = start + float(job["timeout_s"])  # type: ignore[arg-type]
    timed_out = False
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            timed_out = True
            os.killpg(pid, signal.SIGKILL)
            _, wait_status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    return {
        "returncode": os.waitstatus_to_exitcode(wait_status),
        "timed_out": timed_out,
        "duration_s": time.monotonic() - start,
    }


def serve(modules: list[str]) -> None:
    """``serve`` mode: preload modules, then run one forked child per job line."""
    protocol = sys.stdout
    sys.stdout = sys.stderr  # anything an import prints must not corrupt the protocol
    for name in modules:
        with contextlib.suppress(ImportError):  # a snippet that needs it fails and says so
            __import__(name)
    protocol.write(json.dumps({"ready": True}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        protocol.write(json.dumps(_run_forked(json.loads(line))) + "\n")
        protocol.flush()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "run":
        return run_once(argv[1], argv[2])
    if argv and argv[0] == "serve":
        serve(argv[1:])
        return 0
    sys.stderr.write("usage: code_runner.py run SNIPPET RESULT | serve [MODULE...]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""llama.cpp's own server (``llama-server``): where its binary is, how Erica starts it, and
what a running one says about itself (its parallel slots and the context of each).

The server decodes the answers of all its slots together in one batch (continuous batching),
so N students cost little more than one while decoding is limited by memory bandwidth.
``scripts/build_llama_server.sh`` builds the binary from the llama.cpp sources that
llama-cpp-python's sdist vendors, so the server and the in-process model run the same code.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from knowledge.common.errors import BackendError, ModelError

log = logging.getLogger(__name__)

BUILD_HINT = "build it with `bash scripts/setup.sh --server` (about 15 min on 2 cores, once)"


def cache_dir() -> Path:
    """Where scripts/build_llama_server.sh keeps its builds (``current`` is the newest)."""
    base = os.environ.get("ERICA_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "erica")
    return Path(base) / "llama-server"


def find_binary(explicit: str = "") -> Path | None:
    """The llama-server to run: ``explicit`` if given, else the cached build, else PATH."""
    if explicit:
        path = Path(explicit).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ModelError(f"the llama-server binary {path} is not an executable file",
                             "set ERICA_LLM_SERVER_BINARY to a built llama-server, or "
                             + BUILD_HINT)
        return path
    cached = cache_dir() / "current" / "llama-server"
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    found = shutil.which("llama-server")
    return Path(found) if found else None


def require_binary(explicit: str = "") -> Path:
    path = find_binary(explicit)
    if path is None:
        raise ModelError("llama.cpp's server (llama-server) is not built", BUILD_HINT)
    return path


@dataclass(frozen=True)
class ServerConfig:
    """How to start one llama-server. ``slot_context`` is each slot's own context window."""

    binary: Path
    model: Path
    slots: int = 8
    slot_context: int = 4096
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 2
    alias: str = ""
    cache_ram_mib: int = 1024  # prompts kept in RAM for reuse by any slot
    nice: int = 0  # >0: below the UI (retrieval and page updates stay quick)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def command(self) -> list[str]:
        """The command line: N slots, each with its own ``slot_context`` (no shared KV pool,
        so one long answer cannot starve the others), continuous batching (the default)."""
        cmd = [str(self.binary), "--model", str(self.model), "--host", self.host,
               "--port", str(self.port), "--parallel", str(self.slots),
               "--ctx-size", str(self.slots * self.slot_context), "--no-kv-unified",
               "--threads", str(self.threads), "--threads-batch", str(self.threads),
               "--cache-ram", str(self.cache_ram_mib), "--no-webui"]
        if self.alias:
            cmd += ["--alias", self.alias]
        return cmd


class ServerProcess:
    """A llama-server child process: started, waited for until healthy, stopped."""

    def __init__(self, config: ServerConfig, log_file: Path | None = None) -> None:
        self.config = config
        self.log_file = log_file
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 180.0) -> ServerProcess:
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            nice = self.config.nice
            self.proc = subprocess.Popen(self.config.command(), stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=(lambda: os.nice(nice)) if nice else None)
        finally:
            if self.log_file:
                out.close()
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        """Until /health answers 200 (503 while the model loads); a clear error if the
        process exits or never gets there."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise BackendError(f"llama-server exited with code {self.proc.returncode} "
                                   "while starting" + self._tail(),
                                   "check the model file, the port and the log")
            try:
                if httpx.get(f"{self.config.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise BackendError(f"llama-server did not become ready in {timeout_s:.0f} s"
                           + self._tail(), "check its log; a large model loads slowly")

    def _tail(self) -> str:
        if not self.log_file or not self.log_file.is_file():
            return ""
        lines = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
        return (": " + " | ".join(lines)) if lines else ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self if self.proc else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class ServerInfo:
    """What a llama.cpp server says in ``/props`` (other servers have no /props)."""

    slots: int
    slot_context: int
    model: str


def probe(client: httpx.Client, timeout_s: float = 3.0) -> ServerInfo | None:
    """The server's slots and per-slot context, or None if it is not a llama.cpp server.
    Connection errors propagate (the caller decides what an unreachable server means)."""
    response = client.get("/props", timeout=timeout_s)
    if response.status_code != 200:
        return None
    try:
        props = response.json()
        slots = int(props["total_slots"])
        n_ctx = int(props.get("default_generation_settings", {}).get("n_ctx") or 0)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    model = str(props.get("model_alias") or Path(str(props.get("model_path", ""))).name)
    return ServerInfo(slots=max(1, slots), slot_context=n_ctx, model=model)

"""``erica serve``: llama.cpp's server with N parallel slots on the configured model, for a
whole class at once (127.0.0.1 unless told otherwise); ``--ui`` starts Erica's UI on it too.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys

from tutor.commands.options import is_loopback
from tutor.llm.llama_server import ServerConfig, ServerProcess, require_binary
from tutor.llm.packaged import resolve_gguf
from tutor.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_PORT = 8080


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="serve a whole class: llama.cpp's server with parallel slots",
        description="Start llama.cpp's server (llama-server, built by `scripts/setup.sh "
        "--server`) on the configured model with N parallel slots and continuous batching. "
        "Point Erica at it with ERICA_LLM_BACKEND=openai-http ERICA_LLM_URL=<its URL>, or "
        "use --ui to start Erica's UI on it as well. Listens on 127.0.0.1 unless --host says "
        "otherwise.")
    p.add_argument("--slots", type=int, default=8,
                   help="answers written at once (default 8; more queue in Erica)")
    p.add_argument("--slot-context", type=int, default=None,
                   help="context window of each slot in tokens (default: ERICA_LLM_CONTEXT)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: ERICA_LLM_THREADS)")
    p.add_argument("--ui", action="store_true",
                   help="also start Erica's UI on this server (stops both on Ctrl+C)")
    p.set_defaults(func=cmd_serve)


def server_config(settings: Settings, args: argparse.Namespace) -> ServerConfig:
    if not 1 <= args.slots <= 256:
        from knowledge.common.errors import InvalidInputError

        raise InvalidInputError(f"--slots must be between 1 and 256 (got {args.slots})",
                                "use e.g. --slots 8")
    return ServerConfig(
        binary=require_binary(settings.llm_server_binary),
        model=resolve_gguf(settings.llm_model, settings.models_dir),
        slots=args.slots, slot_context=args.slot_context or settings.llm_context,
        host=args.host, port=args.port, threads=args.threads or settings.llm_threads,
        alias=settings.llm_model)


def client_env(config: ServerConfig) -> dict[str, str]:
    """What points Erica's UI and CLI at this server."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    url = ServerConfig(binary=config.binary, model=config.model, host=host,
                       port=config.port).url
    return {"ERICA_LLM_BACKEND": "openai-http", "ERICA_LLM_URL": url}


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    config = server_config(settings, args)
    if not is_loopback(config.host):
        log.warning("binding to %s: anyone on the network can reach the model server",
                    config.host)
    env = client_env(config)
    print(f"llama-server: {config.slots} slots x {config.slot_context} tokens, "
          f"{config.model.name}, on {config.url}", file=sys.stderr)
    if not args.ui:
        print("Point Erica at it:  " + " ".join(f"{k}={v}" for k, v in env.items())
              + " erica ui", file=sys.stderr)
        # exec, not a child process: a stop signal sent to `erica serve` reaches the server
        os.execv(str(config.binary), config.command())
    from tutor.commands.ui import APP, streamlit_command

    server = ServerProcess(config, log_file=settings.data_dir / "llama-server.log")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"starting the model server (log: {server.log_file})", file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops both, like Ctrl+C
    with server.start():
        print(f"Erica on http://{settings.ui_host}:{settings.ui_port}  (Ctrl+C stops both)",
              file=sys.stderr)
        ui = subprocess.Popen(
            streamlit_command(settings.ui_host, settings.ui_port), cwd=APP.parent.parent,
            env={**os.environ, **env, "HF_HUB_OFFLINE": "1",
                 "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": str(settings.upload_max_mb)})
        try:
            return ui.wait()
        except KeyboardInterrupt:
            return 130
        finally:
            if ui.poll() is None:
                ui.terminate()
                try:
                    ui.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    ui.kill()


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt

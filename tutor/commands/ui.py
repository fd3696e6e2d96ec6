"""``erica ui``: start the Streamlit app (127.0.0.1 unless another address is chosen)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from tutor.commands.options import is_loopback
from tutor.settings import Settings

log = logging.getLogger(__name__)
APP = Path(__file__).resolve().parent.parent.parent / "ui" / "Chat.py"


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="start the web app (Streamlit)",
                       description="Start Erica's web app. It listens on 127.0.0.1 only; use "
                       "--host 0.0.0.0 to serve a classroom network on purpose.")
    p.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8501)")
    p.set_defaults(func=cmd_ui)


def streamlit_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.showErrorDetails", "none"]


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.ui_host
    port = args.port or settings.ui_port
    if not is_loopback(host):
        log.warning("binding to %s: anyone on the network can reach Erica", host)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "STREAMLIT_SERVER_MAX_UPLOAD_SIZE":
           str(settings.upload_max_mb)}
    print(f"Erica on http://{host}:{port}  (Ctrl+C to stop)", file=sys.stderr)
    os.chdir(APP.parent.parent)
    # exec, not a child process: a stop signal sent to `erica ui` must reach Streamlit.
    command = streamlit_command(host, port)
    os.execve(command[0], command, env)
    return 0  # not reached

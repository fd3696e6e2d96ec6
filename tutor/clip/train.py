"""Training Erica's mini-CLIP: open_clip's model and its ClipLoss on generated pairs.

The loop is the CLIP paper's pseudo-code (lecture seeds 002/003) made runnable::

    I_e = normalize(image_encoder(I))          # [n, d_e]
    T_e = normalize(text_encoder(T))           # [n, d_e]
    logits = I_e @ T_e.T * exp(t)              # t: the learned temperature (logit_scale)
    loss = (CE(logits, arange(n)) + CE(logits.T, arange(n))) / 2

:class:`Trainer` runs one step at a time (the "Train CLIP live" page draws the loss curve, the
temperature and the batch similarity matrix after each step); :func:`train` runs a whole
schedule and :func:`save_weights` writes safetensors (float16) plus a JSON sidecar.

Zero-shot test: images of colour-shape pairs that never occur in training
(:data:`tutor.clip.data.HELD_OUT_PAIRS`) are classified among all colour x shape prompts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import platform
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tutor.clip import data
from tutor.clip.models import (
    MINI_CLIP,
    _quiet_open_clip,
    _set_threads,
    mini_clip_config,
    register_configs,
    sha256_file,
    sidecar_path,
)

log = logging.getLogger(__name__)

EVAL_SEED_OFFSET = 1_000_003
ZERO_SHOT_TEMPLATES = ("a {}", "a picture of a {}", "a drawing of a {}")


@dataclass
class TrainConfig:
    """Hyper-parameters; the shipped weights use the defaults (see the sidecar)."""

    steps: int = 650
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 30
    # after this step the rate falls as 1/sqrt(step): the schedule never looks at ``steps``,
    # so a run of N steps is exactly the first N steps of any longer run (checkpoints are
    # reproducible by asking for their step count)
    decay_after: int = 200
    weight_decay: float = 0.1
    seed: int = 7
    render_size: int = 96  # drawn at 96 px, resized to the model's 64 px (as at inference)
    photo_fraction: float = 0.1
    eval_images: int = 360
    single_fraction: float = 0.25  # one object at any scale: what a localisation patch sees
    empty_fraction: float = 0.02  # background only ("an empty background"), one per batch
    twin_fraction: float = 0.4  # hard negatives: the same scene with another shape or colour
    # the temperature's log gets this multiple of the learning rate: at the shared rate Adam
    # moves it by ~lr per step, invisible in a lesson of 60 steps (0.0700 -> 0.0699)
    logit_scale_lr_mult: float = 30.0
    # torch threads while a step runs (restored after): one thread gives the same bits on any
    # machine and is fastest on a busy one; the next batch is drawn on another core meanwhile
    threads: int = 1


@dataclass
class StepInfo:
    step: int
    loss: float
    logit_scale: float  # exp(t): the multiplier of the cosines
    temperature: float  # 1 / logit_scale
    lr: float
    seconds: float
    batch_accuracy: float  # share of images whose own caption scores highest in the batch
    similarity: np.ndarray | None = None  # k x k cosines of the first k pairs of the batch
    captions: list[str] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)


class Trainer:
    """One mini-CLIP being trained; call :meth:`step` repeatedly."""

    def __init__(self, config: TrainConfig | None = None) -> None:
        import open_clip
        import torch
        from open_clip.loss import ClipLoss

        _set_threads()
        register_configs()
        self.config = config or TrainConfig()
        torch.manual_seed(self.config.seed)
        with _quiet_open_clip():
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(
                MINI_CLIP, pretrained=None)
        self.tokenizer = open_clip.get_tokenizer(MINI_CLIP)
        size = self.model.visual.image_size
        self.image_size = int(size[0] if isinstance(size, tuple | list) else size)
        self.mean = np.array(self.model.visual.image_mean or open_clip.OPENAI_DATASET_MEAN,
                             dtype=np.float32)
        self.std = np.array(self.model.visual.image_std or open_clip.OPENAI_DATASET_STD,
                            dtype=np.float32)
        decay, no_decay = [], []
        for name, param in self.model.named_parameters():
            if "logit_scale" in name:
                continue
            if param.ndim < 2 or "embedding" in name or \
                    name.endswith(("bias", "class_embedding")):
                no_decay.append(param)
            else:
                decay.append(param)
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.config.weight_decay, "lr_mult": 1.0},
             {"params": no_decay, "weight_decay": 0.0, "lr_mult": 1.0},
             {"params": [self.model.logit_scale], "weight_decay": 0.0,
              "lr_mult": self.config.logit_scale_lr_mult}],
            lr=self.config.lr, betas=(0.9, 0.98), eps=1e-6, fused=True)
        self.loss_fn = ClipLoss()
        self.rng = np.random.default_rng(self.config.seed)
        self.photos = data.available_photos()
        self.step_no = 0
        self.history: list[StepInfo] = []
        self.seconds = 0.0
        # the next batch is drawn in a background thread while this one trains; one thread
        # and one RNG consumed in order, so the batches are the same as without it
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clip-batches")
        self._next: Future | None = None

    def _make_batch(self) -> tuple[list[Any], list[str], Any, Any]:
        cfg = self.config
        images, captions = data.training_batch(
            self.rng, cfg.batch_size, size=cfg.render_size, photo_fraction=cfg.photo_fraction,
            photos=self.photos, single_fraction=cfg.single_fraction,
            empty_fraction=cfg.empty_fraction, twin_fraction=cfg.twin_fraction)
        return images, captions, self.to_tensor(images), self.tokenizer(captions)

    def next_batch(self) -> tuple[list[Any], list[str], Any, Any]:
        if self._next is None:
            self._next = self._pool.submit(self._make_batch)
        batch = self._next.result()
        self._next = self._pool.submit(self._make_batch)
        return batch

    def close(self) -> None:
        """Stop the background batch thread (also done when the trainer is collected)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- helpers

    def to_tensor(self, images: list[Any]):
        """PIL images -> normalised tensor; the same bicubic resize as open_clip's preprocess
        for square images (drawn scenes and photo crops are square)."""
        import torch
        from PIL import Image

        s = self.image_size
        arr = np.stack([np.asarray(im.convert("RGB").resize((s, s), Image.BICUBIC),
                                   dtype=np.float32) for im in images]) / 255.0
        arr = (arr - self.mean) / self.std
        return torch.from_numpy(arr.transpose(0, 3, 1, 2).copy())

    def lr_at(self, step: int) -> float:
        cfg = self.config
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        return cfg.lr * math.sqrt(cfg.decay_after / max(step + 1, cfg.decay_after))

    # ---------------------------------------------------------------- training

    def step(self, keep: int = 0) -> StepInfo:
        """One optimisation step on a fresh batch; ``keep`` > 0 returns the k x k similarity
        matrix (and the captions and images) of the first ``keep`` pairs for display."""
        import torch

        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.config.threads)
        try:
            return self._step(keep)
        finally:
            torch.set_num_threads(previous_threads)

    def _step(self, keep: int) -> StepInfo:
        import torch

        start = time.perf_counter()
        images, captions, x, tokens = self.next_batch()
        lr = self.lr_at(self.step_no)
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group["lr_mult"]
        self.model.train()
        image_features, text_features, logit_scale = self.model(x, tokens)
        loss = self.loss_fn(image_features, text_features, logit_scale)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        with torch.no_grad():
            self.model.logit_scale.clamp_(0, math.log(100))
            sims = image_features.detach() @ text_features.detach().T
            accuracy = float((sims.argmax(dim=1) == torch.arange(len(sims))).float().mean())
        scale = float(self.model.logit_scale.detach().exp())
        elapsed = time.perf_counter() - start
        self.seconds += elapsed
        self.step_no += 1
        info = StepInfo(self.step_no, float(loss.item()), scale, 1.0 / scale, lr, elapsed,
                        accuracy)
        if keep:
            info.similarity = sims[:keep, :keep].numpy().copy()
            info.captions = captions[:keep]
            info.images = images[:keep]
        self.history.append(StepInfo(info.step, info.loss, info.logit_scale, info.temperature,
                                     info.lr, info.seconds, info.batch_accuracy))
        return info

    # ---------------------------------------------------------------- evaluation

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        self.model.eval()
        with torch.inference_mode():
            f = self.model.encode_text(self.tokenizer(texts))
            return torch.nn.functional.normalize(f, dim=-1).numpy()

    def embed_images(self, images: list[Any]) -> np.ndarray:
        import torch

        self.model.eval()
        out = []
        with torch.inference_mode():
            for i in range(0, len(images), 128):
                f = self.model.encode_image(self.to_tensor(images[i:i + 128]))
                out.append(torch.nn.functional.normalize(f, dim=-1).numpy())
        return np.concatenate(out)

    def evaluate(self, n_images: int | None = None) -> dict[str, Any]:
        """Zero-shot top-1 over all colour x shape prompts, on held-out and on seen pairs."""
        n = n_images or self.config.eval_images
        classes = data.all_pairs()
        prompts = [[t.format(f"{c} {s}") for t in ZERO_SHOT_TEMPLATES] for c, s in classes]
        flat = self.embed_texts([p for group in prompts for p in group])
        class_emb = flat.reshape(len(classes), len(ZERO_SHOT_TEMPLATES), -1).mean(axis=1)
        class_emb /= np.linalg.norm(class_emb, axis=1, keepdims=True)
        result: dict[str, Any] = {"classes": len(classes), "chance": 1.0 / len(classes),
                                  "templates": list(ZERO_SHOT_TEMPLATES),
                                  "held_out_pairs": [" ".join(p) for p in data.HELD_OUT_PAIRS]}
        for split, pairs in (("held_out", list(data.HELD_OUT_PAIRS)),
                             ("seen", data.seen_pairs())):
            rng = np.random.default_rng(self.config.seed + EVAL_SEED_OFFSET
                                        + (0 if split == "held_out" else 1))
            images, truth = data.zero_shot_eval_set(rng, pairs, n, self.config.render_size)
            emb = self.embed_images(images)
            pred = (emb @ class_emb.T).argmax(axis=1)
            guessed = [classes[i] for i in pred]
            result[f"{split}_top1"] = float(np.mean([g == t for g, t in
                                                     zip(guessed, truth, strict=True)]))
            result[f"{split}_colour_acc"] = float(np.mean([g[0] == t[0] for g, t in
                                                          zip(guessed, truth, strict=True)]))
            result[f"{split}_shape_acc"] = float(np.mean([g[1] == t[1] for g, t in
                                                         zip(guessed, truth, strict=True)]))
            result[f"{split}_images"] = n
        return result

    # ---------------------------------------------------------------- saving

    def half_state_dict(self) -> dict[str, Any]:
        import torch

        return {k: v.detach().to(torch.float16).contiguous()
                for k, v in self.model.state_dict().items()}

    def round_to_half(self) -> None:
        """Make the in-memory model exactly what the float16 file will hold."""
        import torch

        state = {k: v.to(torch.float32) for k, v in self.half_state_dict().items()}
        self.model.load_state_dict(state, strict=True)


def write_safetensors(state: dict[str, Any], path: Path) -> None:
    """One metadata key only: safetensors writes its metadata map in a random order per
    process, so two keys would make the same weights hash differently run to run."""
    from safetensors.torch import save_file

    save_file(state, str(path), metadata={"format": "pt"})


def save_checkpoint(trainer: Trainer, folder: Path) -> Path:
    """The float16 weights after ``trainer.step_no`` steps (what a run of exactly that many
    steps ships), written atomically as ``step-NNNNN.safetensors`` with a small JSON."""

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step-{trainer.step_no:05d}.safetensors"
    tmp = path.with_name(path.name + ".tmp")
    write_safetensors(trainer.half_state_dict(), tmp)
    tmp.replace(path)
    last = trainer.history[-20:]
    path.with_suffix(".json").write_text(json.dumps({
        "steps": trainer.step_no, "train_seconds": round(trainer.seconds, 1),
        "loss": float(np.mean([h.loss for h in last])),
        "batch_accuracy": float(np.mean([h.batch_accuracy for h in last])),
        "temperature": trainer.history[-1].temperature, "sha256": sha256_file(path)}) + "\n")
    return path


def train(config: TrainConfig, *, on_step: Callable[[StepInfo], None] | None = None,
          progress: bool = True, checkpoint_every: int = 0,
          checkpoint_dir: Path | None = None) -> tuple[Trainer, dict[str, Any]]:
    """Run ``config.steps`` steps, round to float16 and evaluate; returns (trainer, report).

    With ``checkpoint_every`` the float16 weights are also written to ``checkpoint_dir``
    every so many steps (see :func:`save_checkpoint`)."""
    import torch
    from tqdm import tqdm

    torch.set_num_threads(config.threads)
    trainer = Trainer(config)
    bar = tqdm(total=config.steps, desc="training mini-clip", unit="step", disable=not progress)
    try:
        while trainer.step_no < config.steps:
            info = trainer.step()
            bar.update(1)
            if trainer.step_no % 10 == 0:
                bar.set_postfix(loss=f"{info.loss:.3f}", acc=f"{info.batch_accuracy:.2f}",
                                T=f"{info.temperature:.3f}")
            if on_step:
                on_step(info)
            if checkpoint_every and checkpoint_dir and trainer.step_no % checkpoint_every == 0:
                save_checkpoint(trainer, checkpoint_dir)
    finally:
        bar.close()
        trainer.close()
    trainer.round_to_half()
    report = trainer.evaluate()
    last = trainer.history[-20:]
    report["final_loss"] = float(np.mean([h.loss for h in last]))
    report["final_batch_accuracy"] = float(np.mean([h.batch_accuracy for h in last]))
    report["logit_scale"] = float(trainer.model.logit_scale.detach().exp())
    report["train_seconds"] = round(trainer.seconds, 1)
    return trainer, report


def state_digest(state: dict[str, Any]) -> str:
    """sha256 over the names and float16 bytes of a state dict (order-independent)."""
    import hashlib

    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].numpy().tobytes())
    return digest.hexdigest()


def first_steps_digest(config: TrainConfig, steps: int = 2) -> str:
    """:func:`state_digest` of a fresh trainer after ``steps`` steps: the cheap check that
    training still reproduces the shipped weights' run on this machine."""
    trainer = Trainer(config)
    try:
        for _ in range(steps):
            trainer.step()
    finally:
        trainer.close()
    return state_digest(trainer.half_state_dict())


def finish_checkpoint(config: TrainConfig, checkpoint: Path) -> tuple[Trainer, dict[str, Any]]:
    """Load a :func:`save_checkpoint` file of a run with ``config`` and evaluate it: what
    :func:`train` returns for a run of exactly that many steps."""
    import torch
    from safetensors.torch import load_file

    info = json.loads(Path(checkpoint).with_suffix(".json").read_text(encoding="utf-8"))
    torch.set_num_threads(config.threads)
    trainer = Trainer(config)
    trainer.close()
    state = {k: v.to(torch.float32) for k, v in load_file(str(checkpoint)).items()}
    trainer.model.load_state_dict(state, strict=True)
    trainer.step_no = int(info["steps"])
    trainer.seconds = float(info["train_seconds"])
    report = trainer.evaluate()
    report["final_loss"] = float(info["loss"])
    report["final_batch_accuracy"] = float(info["batch_accuracy"])
    report["logit_scale"] = float(trainer.model.logit_scale.detach().exp())
    report["train_seconds"] = round(trainer.seconds, 1)
    return trainer, report


def save_weights(trainer: Trainer, report: dict[str, Any], path: Path) -> dict[str, Any]:
    """Write ``path`` (.safetensors, float16) and its sidecar ``*.meta.json``; returns meta."""
    import open_clip
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write_safetensors(trainer.half_state_dict(), tmp)
    tmp.chmod(0o644)
    tmp.replace(path)
    meta = {
        "model": MINI_CLIP,
        "config": mini_clip_config(),
        "train": asdict(trainer.config),
        "seed": trainer.config.seed,
        "steps": trainer.step_no,
        "dtype": "float16",
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
        "parameters": int(sum(p.numel() for p in trainer.model.parameters())),
        "zero_shot": {k: v for k, v in report.items() if k not in ("train_seconds",)},
        "train_seconds": report.get("train_seconds"),
        "held_out_top1": report.get("held_out_top1"),
        "chance": report.get("chance"),
        "versions": {"torch": torch.__version__, "open_clip": open_clip.__version__,
                     "python": platform.python_version()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "first_steps": {"steps": 2, "digest": first_steps_digest(
            TrainConfig(**asdict(trainer.config)), 2)},
    }
    side = sidecar_path(path)
    side.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta

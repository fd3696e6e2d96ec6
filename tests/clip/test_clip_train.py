"""Training mini-CLIP: ClipLoss with a learned temperature, determinism, safetensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tutor.clip import models
from tutor.clip.train import TrainConfig, Trainer, save_weights


def _small(seed: int = 3) -> TrainConfig:
    return TrainConfig(steps=4, batch_size=16, seed=seed, warmup=2, eval_images=12,
                       render_size=64)


def test_steps_are_deterministic_and_learn_the_temperature():
    a, b = Trainer(_small()), Trainer(_small())
    start_scale = float(a.model.logit_scale.detach().exp())
    infos = [a.step(keep=4) for _ in range(3)]
    for _ in range(3):
        b.step()
    assert all(np.isfinite(i.loss) for i in infos)
    assert infos[-1].similarity.shape == (4, 4) and len(infos[-1].captions) == 4
    assert infos[-1].logit_scale != start_scale  # exp(t) is a trained parameter
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(np.array_equal(sa[k].numpy(), sb[k].numpy()) for k in sa)


def test_save_and_reload_roundtrip(tmp_path: Path):
    trainer = Trainer(_small(seed=11))
    trainer.step()
    trainer.round_to_half()
    report = trainer.evaluate(12)
    assert 0 <= report["held_out_top1"] <= 1 and report["chance"] == 1 / 36
    out = tmp_path / "mine.safetensors"
    meta = save_weights(trainer, report, out)
    assert out.is_file() and models.sidecar_path(out).is_file()
    assert meta["sha256"] == models.sha256_file(out) and meta["steps"] == 1
    loaded = models.load_mini_clip(out)
    texts = ["a red circle", "two striped blue squares"]
    expected = trainer.embed_texts(texts)
    assert np.allclose(loaded.embed_texts(texts), expected, atol=1e-5)

"""Train CLIP live tab: a small CLIP trained step by step in front of the class."""

from __future__ import annotations

import streamlit as st

from tutor.settings import Settings
from ui.clip_lab.charts import heatmap_chart
from ui.resources import guarded


def _loss_chart(target, trainer) -> None:
    import pandas as pd

    hist = trainer.history
    target.line_chart(pd.DataFrame({"loss": [h.loss for h in hist]},
                                   index=[h.step for h in hist]))


def _run(trainer, steps: int, every: int) -> None:
    chart, metrics, matrix = st.empty(), st.empty(), st.empty()
    target = trainer.step_no + steps
    trainer.config.steps = max(trainer.config.steps, target)
    while trainer.step_no < target:
        info = guarded(trainer.step, keep=8)
        if info is None:
            break
        if trainer.step_no % every == 0 or trainer.step_no == target:
            _loss_chart(chart, trainer)
            metrics.markdown(
                f"step **{info.step}** · loss **{info.loss:.3f}** · temperature "
                f"**{info.temperature:.4f}** (logit scale {info.logit_scale:.1f}) · "
                f"batch top-1 **{info.batch_accuracy:.0%}**")
            names = [f"{i + 1}. {c[:28]}" for i, c in enumerate(info.captions)]
            matrix.altair_chart(heatmap_chart(
                info.similarity, [f"img {i + 1}" for i in range(len(names))], names,
                f"batch similarity at step {info.step}"), width="content")


def tab_train(settings: Settings) -> None:
    from tutor.clip import train

    st.subheader("Train a CLIP live")
    st.markdown(
        "Each step draws a batch of image-caption pairs, embeds both, and minimises the "
        "symmetric cross-entropy of `logits = exp(t) · I_e @ T_eᵀ` (open_clip's ClipLoss). "
        "Watch the loss fall, the learned temperature 1/exp(t) shrink and the batch "
        "similarity matrix turn diagonal.")
    c1, c2, c3 = st.columns(3)
    steps = c1.number_input("Steps to run", 1, 2000, 60, key="train_steps")
    batch = c2.selectbox("Batch size", [32, 64, 128], index=1, key="train_batch")
    every = c3.number_input("Redraw every N steps", 1, 100, 5, key="train_every")
    b1, b2, b3 = st.columns(3)
    start = b1.button("Train", type="primary", key="train_go")
    evaluate = b2.button("Zero-shot test (held-out pairs)", key="train_eval")
    if b3.button("Start over", key="train_reset"):
        st.session_state.pop("trainer", None)
    trainer = st.session_state.get("trainer")
    if start:
        if trainer is None or trainer.config.batch_size != batch:
            config = train.TrainConfig(batch_size=int(batch), steps=max(int(steps), 200),
                                       warmup=20)
            trainer = guarded(train.Trainer, config)
            st.session_state.trainer = trainer
        if trainer is not None:
            _run(trainer, int(steps), int(every))
    elif trainer is not None and trainer.history:
        _loss_chart(st, trainer)
        st.caption(f"{trainer.step_no} steps so far; temperature "
                   f"{trainer.history[-1].temperature:.4f}.")
    if evaluate:
        if trainer is None:
            st.warning("Train first.")
            return
        report = guarded(trainer.evaluate, 90)
        if report:
            st.metric("Held-out colour-shape pairs: zero-shot top-1",
                      f"{report['held_out_top1']:.0%}", help=f"chance {report['chance']:.1%}")
            st.caption(f"seen pairs: {report['seen_top1']:.0%}; held-out pairs: "
                       f"{', '.join(report['held_out_pairs'])}")

"""Zero-shot labels tab: which of the typed labels fits the image best."""

from __future__ import annotations

import streamlit as st

from tutor.settings import Settings
from ui.clip_lab.common import pick_image
from ui.resources import guarded


def tab_labels(settings: Settings, model) -> None:
    import altair as alt
    import pandas as pd

    from tutor.clip import zeroshot

    st.subheader("Zero-shot labels")
    image = pick_image(settings, "labels")
    if image is not None:
        st.image(image, width=220)
    labels = st.text_area("Labels (comma or line separated)",
                          value="a cat, a dog, a car, a horse, a cup of coffee",
                          key="labels_text")
    names = list(zeroshot.TEMPLATE_SET_NAMES)
    template = st.selectbox("Prompt templates", names,
                            index=names.index(zeroshot.default_template_set(model)),
                            key="labels_templates",
                            help="clip-80 is the CLIP paper's 80-prompt ensemble")
    if not (st.button("Label the image", type="primary", key="labels_go")
            and image is not None):
        return
    result = guarded(zeroshot.label_image, model, image, labels, template)
    if not result:
        return
    for note in result.notes:
        st.info(note)
    top = result.labels[:20]
    frame = pd.DataFrame({"label": [lb for lb, _ in top], "probability": [p for _, p in top]})
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("probability:Q", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("label:N", sort="-x", axis=alt.Axis(labelLimit=240)),
        tooltip=["label", alt.Tooltip("probability:Q", format=".3f")])
    st.altair_chart(chart.properties(height=alt.Step(28)), width="stretch")
    st.dataframe(frame, hide_index=True, key="labels_table",
                 column_config={"probability": st.column_config.NumberColumn(format="%.3f")})
    st.caption(f"{result.templates} prompt(s) per label from '{result.template_set}'; "
               f"softmax of {model.logit_scale:.1f} x cosine.")

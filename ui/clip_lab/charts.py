"""The lab's heatmaps: a cosine matrix (images x captions) with its diagonal outlined."""

from __future__ import annotations

import numpy as np

CELL_PX = 44  # each row is this tall, so labels and numbers never overlap
CELL_WIDTH_PX = 96


def heatmap_chart(matrix: np.ndarray, rows: list[str], cols: list[str], title: str):
    """Altair heatmap, one cell per (row, column), a fixed size per cell.

    The size is given per row and column (``alt.Step``), not for the whole chart: with a
    whole-chart height and a container-wide width Vega-Lite drops the height of a discrete
    axis ("Dropping fit-y ...") and the matrix collapses into one line.
    """
    import altair as alt
    import pandas as pd

    records = [{"image": rows[i], "caption": cols[j], "cosine": float(matrix[i, j]),
                "diagonal": i == j, "label": f"{matrix[i, j]:.2f}"}
               for i in range(matrix.shape[0]) for j in range(matrix.shape[1])]
    frame = pd.DataFrame.from_records(records)
    base = alt.Chart(frame).encode(
        x=alt.X("caption:N", sort=cols, title="caption",
                axis=alt.Axis(labelAngle=-30, labelLimit=180, labelFontSize=12)),
        y=alt.Y("image:N", sort=rows, title="image",
                axis=alt.Axis(labelLimit=200, labelFontSize=12)))
    cells = base.mark_rect().encode(
        color=alt.Color("cosine:Q", scale=alt.Scale(scheme="viridis"),
                        legend=alt.Legend(title="cosine")),
        tooltip=["image", "caption", alt.Tooltip("cosine:Q", format=".3f")])
    diag = base.transform_filter(alt.datum.diagonal).mark_rect(
        fill=None, stroke="red", strokeWidth=3)
    text = base.mark_text(fontSize=12).encode(
        text="label:N",
        color=alt.condition(alt.datum.cosine > float(np.median(matrix)), alt.value("black"),
                            alt.value("white")))
    return (cells + diag + text).properties(
        title=title, width=alt.Step(CELL_WIDTH_PX), height=alt.Step(CELL_PX))

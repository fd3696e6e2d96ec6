"""Printing benchmark tables and writing their JSON results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def results_dir() -> Path:
    """Where results go: ``$ERICA_BENCH_DIR``, else ``bench/results`` (read at each write)."""
    return Path(os.environ.get("ERICA_BENCH_DIR", "bench/results"))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of dict rows (columns in first-seen order)."""
    if not rows:
        return "(no rows)"
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
        return str(value)

    cells = [[cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def write_results(name: str, rows: Sequence[dict[str, Any]], **meta: Any) -> Path:
    """Print the table and write ``bench/results/<name>-<timestamp>.json``; returns the path."""
    print(format_table(rows))  # noqa: T201 - a benchmark's table is its output
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{name}-{stamp}.json"
    payload = {
        "benchmark": name,
        "time": stamp,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "meta": meta,
        "rows": list(rows),
    }
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    print(f"results: {path}")  # noqa: T201
    return path

"""``erica bench clip --quick`` runs end to end and writes its JSON (tiny sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_bench_clip_quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys,
                          mini_model):
    from tutor.cli import main

    monkeypatch.setenv("ERICA_BENCH_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("ERICA_DATA_DIR", str(tmp_path / "data"))
    assert main(["bench", "clip", "--quick", "--models", "mini-clip"]) == 0
    out = capsys.readouterr().out
    assert "batched img/s" in out and "p95 ms" in out
    written = list((tmp_path / "results").glob("clip-*.json"))
    assert len(written) == 1
    rows = json.loads(written[0].read_text())["rows"]
    index_row = next(r for r in rows if r["test"] == "indexing")
    assert index_row["batched img/s"] > 0 and index_row["ratio"] > 0
    query_row = next(r for r in rows if r["test"] == "text query")
    assert query_row["vectors"] == 500 and query_row["search"] == "exact"
    assert query_row["recall@10"] == 1.0 and 0 <= query_row["hnsw recall@10"] <= 1

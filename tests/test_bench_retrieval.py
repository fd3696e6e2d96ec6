"""``erica bench retrieval`` end to end on tiny synthetic stores (speed is not asserted)."""

import json
from pathlib import Path

from tests.conftest import erica_env


def test_bench_retrieval_writes_every_stage(tmp_path: Path, use_env, capsys) -> None:
    from tutor.cli import main

    use_env(erica_env(tmp_path / "data"))
    assert main(["bench", "retrieval", "--sizes", "120,400", "--queries", "12",
                 "--builds", "2"]) == 0
    out = capsys.readouterr().out
    assert "build_concepts_per_s" in out and "rank_p50_ms" in out
    [result] = (tmp_path / "bench").glob("retrieval-*.json")
    rows = json.loads(result.read_text())["rows"]
    assert [r["concepts"] for r in rows] == [120, 400]
    built, written = rows
    assert built["vectors"] == "embedded" and written["vectors"] == "real+noise"
    assert built["build_min_per_s"] <= built["build_concepts_per_s"] <= built["build_max_per_s"]
    for row in rows:
        assert 0 < row["embed_p50_ms"] <= row["p50_ms"] <= row["p95_ms"]
        assert row["rank_p50_ms"] > 0 and row["graph_p50_ms"] > 0

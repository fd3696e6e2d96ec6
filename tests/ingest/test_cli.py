"""``erica kb ingest`` end to end through tutor.cli.main, then validate and build."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import MINI_COURSE, erica_env
from tests.ingest.conftest import write_bad_material, write_good_material
from tutor.cli import main


def test_ingest_validate_build(tmp_path: Path, use_env, capsys):
    folder = write_good_material(tmp_path / "lectures")
    write_bad_material(folder)
    data = tmp_path / "data"
    use_env(erica_env(data))
    assert main(["kb", "ingest", str(folder), "--course", "ai-2026"]) == 1  # files skipped
    captured = capsys.readouterr()
    out = captured.out
    assert "skipped   lectures/encrypted.pdf: encrypted PDF" in out
    assert "fix: save an unprotected copy" in out
    assert "ingested  lectures/lecture02-astar.pdf  3 page(s)" in out
    assert "warning   lectures/notes-injection.md" in out
    course_dir = data / "courses" / "ai-2026"
    assert f"ERICA_COURSE_DIRS=\"{MINI_COURSE}{os.pathsep}{course_dir}\"" in out
    assert "Traceback" not in captured.err

    assert main(["kb", "ingest", str(folder), "--course", "ai-2026", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["store_changed"] is False and report["cards_written"] == []
    statuses = {Path(f["path"]).name: f["status"] for f in report["files"]}
    assert statuses["lecture01-search.md"] == "unchanged"
    assert statuses["huge.txt"] == "skipped"

    use_env(erica_env(data, course=f"{MINI_COURSE}{os.pathsep}{course_dir}"))
    assert main(["kb", "validate"]) == 0
    assert main(["kb", "build"]) == 0
    assert "built" in capsys.readouterr().out
    assert main(["retrieve", "what is an admissible heuristic", "--k", "1", "--json"]) == 0
    retrieved = json.loads(capsys.readouterr().out)
    assert retrieved["matches"][0]["id"] == "admissible-heuristic"


def test_clean_folder_exits_zero_and_names_the_next_step(tmp_path: Path, use_env, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "week1.md").write_text("# Week 1\n\n## Agents\nAn agent is a system that "
                                     "perceives its environment and acts on it.\n",
                                     encoding="utf-8")
    course_dir = tmp_path / "data" / "courses" / "notes"
    use_env(erica_env(tmp_path / "data", course=f"{MINI_COURSE}{os.pathsep}{course_dir}"))
    assert main(["kb", "ingest", str(folder)]) == 0  # course name from the folder
    out = capsys.readouterr().out
    assert "course notes: 1 ingested" in out and "next: `erica kb build`" in out
    assert (course_dir / "notes-week1.yaml").is_file()


def test_user_errors_are_messages_not_tracebacks(tmp_path: Path, use_env, capsys):
    use_env(erica_env(tmp_path / "data"))
    assert main(["kb", "ingest", str(tmp_path), "--course", "Bad Name!"]) == 2
    err = capsys.readouterr().err
    assert "error: course name 'Bad Name!'" in err and "fix:" in err
    (tmp_path / "empty").mkdir()
    assert main(["kb", "ingest", str(tmp_path / "empty"), "--course", "x1"]) == 1
    assert "empty folder" in capsys.readouterr().out


def test_bench_ingest_on_the_mini_course(tmp_path: Path, use_env, capsys, monkeypatch):
    use_env(erica_env(tmp_path / "data"))
    monkeypatch.setenv("ERICA_BENCH_DIR", str(tmp_path / "bench"))
    assert main(["bench", "ingest", "--no-speed"]) == 0
    out = capsys.readouterr().out
    for method in ("course order alone", "reference distance alone", "2-fold CV by unit",
                   "cross-language top-1"):
        assert method in out
    results = list((tmp_path / "bench").glob("ingest-*.json"))
    rows = json.loads(results[0].read_text())["rows"]
    assert {"links", "languages"} <= {r["part"] for r in rows}


def test_reset_keeps_ingested_passages(tmp_path: Path, use_env, capsys):
    """`kb build --reset` after the concepts' index is lost brings the passages back."""
    import shutil

    from chromadb.api.shared_system_client import SharedSystemClient

    from tutor import runtime
    from tutor.settings import load_settings

    folder = write_good_material(tmp_path / "lectures")
    data = tmp_path / "data"
    use_env(erica_env(data))
    assert main(["kb", "build"]) == 0
    assert main(["kb", "ingest", str(folder), "--course", "ai-2026"]) == 0
    capsys.readouterr()
    before = runtime.retriever(load_settings()).passages()
    assert before is not None and len(before) > 0
    runtime._client.cache_clear()
    runtime._retriever.cache_clear()
    SharedSystemClient.clear_system_cache()
    for index_dir in (p for p in (data / "chroma").iterdir() if p.is_dir()):
        shutil.rmtree(index_dir)  # every vector index lost; the sqlite records remain

    assert main(["kb", "build", "--reset"]) == 0
    out = capsys.readouterr().out
    assert "moved the old store" in out
    assert f"recovered {len(before)} ingested passages" in out
    assert main(["retrieve", "what is an admissible heuristic", "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert passages and all(p["source"] for p in passages)

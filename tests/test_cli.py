"""The ``erica`` command end to end (in process), on real stores under tmp."""

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import MINI_COURSE, erica_env
from tutor.cli import build_parser, main


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("config", "kb", "retrieve", "ask", "ui", "bench", "clip", "models"):
        assert command in out
    sub = build_parser()._subparsers._group_actions[0].choices
    assert set(sub["kb"]._subparsers._group_actions[0].choices) >= {"validate", "build",
                                                                     "stats"}


@pytest.mark.catalogue(case="cards: prerequisite cycle (kb validate)",
                       expect="cycle printed, exit 1")
def test_validate_reports_and_exits_nonzero(tmp_path: Path, use_env, capsys):
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course)
    use_env(erica_env(tmp_path / "data", course))
    assert main(["kb", "validate"]) == 0
    (course / "cycle.yaml").write_text(
        "unit: x\ncards:\n  - {id: p, name: P, summary: s., prerequisites: [q]}\n"
        "  - {id: q, name: Q, summary: s., prerequisites: [p]}\n")
    assert main(["kb", "validate"]) == 1
    out = capsys.readouterr().out
    assert "cycle: " in out and "2 problem" not in out
    (course / "broken.yaml").write_text("unit: x\ncards:\n  - id: [\n")
    assert main(["kb", "validate"]) == 3
    assert "broken.yaml:" in capsys.readouterr().err


def test_validate_counts_graph_warnings_and_lists_them_on_request(tmp_path: Path, use_env,
                                                                    capsys):
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course)
    use_env(erica_env(tmp_path / "data", course))
    assert main(["kb", "validate"]) == 0
    assert "0 graph warning(s)" in capsys.readouterr().out
    (course / "extra.yaml").write_text(
        "unit: x\ncards:\n  - {id: image-search, name: Image search, summary: s., "
        "prerequisites: [clip], level: intro}\n")
    assert main(["kb", "validate"]) == 0  # warnings never fail validation
    out = capsys.readouterr().out
    assert "1 graph warning(s): 0 non-concept-only, 0 too-many-ancestors, " \
           "1 intro-needs-advanced, 0 unlinked-mention (list them with --warnings)" in out
    assert main(["kb", "validate", "--warnings"]) == 0
    assert "warning [intro-needs-advanced] " in capsys.readouterr().out


def test_build_stats_retrieve(tmp_path: Path, use_env, capsys):
    use_env(erica_env(tmp_path / "data"))
    assert main(["kb", "build"]) == 0
    assert "built 15 concepts" in capsys.readouterr().out
    assert main(["kb", "build"]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["kb", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["concepts_in_chromadb"] == 15 and stats["prerequisite_edges"] == 18
    assert stats["longest_chain"] == 6 and stats["roots"] == 2
    assert main(["retrieve", "what is clip", "--k", "1", "--depth", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["matches"][0]["id"] == "clip"
    assert [c["role"] for c in data["concepts"]].count("prerequisite") == 3


def test_retrieve_from_file_one_json_per_line(tmp_path: Path, use_env, mini_store, capsys):
    use_env(erica_env(mini_store))
    questions = tmp_path / "q.txt"
    questions.write_text("what is BFS\n\nwhat is a dot product\n" + "x" * 5000 + "\n")
    assert main(["retrieve", "--from-file", str(questions), "--depth", "0"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3
    assert lines[0]["matches"][0]["id"] == "breadth-first-search"
    assert lines[1]["matches"][0]["id"] == "dot-product"
    assert "characters long" in lines[2]["error"] and lines[2]["line"] == 4


def test_errors_are_messages_not_tracebacks(tmp_path: Path, use_env, capsys):
    use_env(erica_env(tmp_path / "empty"))
    assert main(["retrieve", "what is clip"]) == 4
    err = capsys.readouterr().err
    assert "error:" in err and "fix: build it with `erica kb build`" in err
    assert "Traceback" not in err
    use_env(erica_env(tmp_path / "empty", ERICA_EMBEDDING_MODEL="no-such-model"))
    assert main(["kb", "build"]) == 5
    assert "unknown embedding model" in capsys.readouterr().err
    assert main(["retrieve", "   "]) in (2, 4)
    assert main(["retrieve", "q", "--k", "0"]) == 2


@pytest.mark.catalogue(case="store: truncated chroma.sqlite3", expect="'kb build --reset' fixes it")
def test_damaged_store_message_and_reset(tmp_path: Path, use_env, capsys):
    data = tmp_path / "data"
    use_env(erica_env(data))
    assert main(["kb", "build"]) == 0
    sqlite = data / "chroma" / "chroma.sqlite3"
    from chromadb.api.shared_system_client import SharedSystemClient

    from tutor import runtime

    runtime._client.cache_clear()
    runtime._retriever.cache_clear()
    SharedSystemClient.clear_system_cache()
    sqlite.write_bytes(sqlite.read_bytes()[:4096])  # truncated: "malformed"
    code = main(["retrieve", "what is clip"])
    err = capsys.readouterr().err
    assert code == 4 and "kb build --reset" in err and "Traceback" not in err
    assert main(["kb", "build", "--reset"]) == 0
    assert "moved the old store" in capsys.readouterr().out
    assert main(["retrieve", "what is clip", "--json"]) == 0


def test_config_prints_effective_settings(tmp_path: Path, use_env, capsys):
    use_env({"ERICA_DATA_DIR": str(tmp_path), "ERICA_MAX_CONCEPTS": "7"})
    assert main(["config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["max_concepts"] == 7 and data["data_dir"] == str(tmp_path)

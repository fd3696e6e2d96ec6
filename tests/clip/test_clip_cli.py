"""``erica clip ...`` end to end through ``tutor.cli.main`` (real model, real ChromaDB)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clip.conftest import scene_image, write_bad_images
from tutor.cli import main


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, demo_indexed):
    monkeypatch.setenv("ERICA_DATA_DIR", str(demo_indexed.data_dir))
    return demo_indexed


def test_search_json_and_text(cli_env, capsys):
    assert main(["clip", "search", "a horse", "--set", "demo", "-k", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) >= {"rank", "path", "score"}
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    assert "model: mini-clip" in err  # the active model is always shown
    assert main(["clip", "search", "red circles", "-k", "2"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("model: mini-clip") and "  1. " in out


def test_label_json_sorted(cli_env, capsys, tmp_path: Path):
    image = tmp_path / "square.png"
    scene_image("yellow", "square").save(image)
    assert main(["clip", "label", str(image), "--labels", "yellow square, red circle, cat",
                 "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [set(r) for r in rows] == [{"label", "prob"}] * 3
    assert rows[0]["label"] == "yellow square"
    assert [r["prob"] for r in rows] == sorted((r["prob"] for r in rows), reverse=True)
    assert "model: mini-clip" in err


def test_label_bad_inputs(cli_env, capsys, tmp_path: Path):
    image = tmp_path / "x.png"
    scene_image("red", "circle").save(image)
    assert main(["clip", "label", str(image), "--labels", " , "]) == 2
    _, err = capsys.readouterr()
    assert "error: no labels given" in err and "fix:" in err and "Traceback" not in err
    fake = tmp_path / "fake.jpg"
    fake.write_text("hello")
    assert main(["clip", "label", str(fake), "--labels", "a, b"]) == 2
    _, err = capsys.readouterr()
    assert "not an image format" in err
    many = ",".join(f"label{i}" for i in range(500))
    assert main(["clip", "label", str(image), "--labels", many, "--top", "3"]) == 0
    out, _ = capsys.readouterr()
    assert "497 more labels" in out


def test_index_folder_with_bad_files(cli_env, capsys, tmp_path: Path):
    write_bad_images(tmp_path / "mixed")
    assert main(["clip", "index", str(tmp_path / "mixed"), "--set", "mixed", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 4 and len(report["skipped"]) == 4
    assert main(["clip", "index", str(tmp_path / "mixed"), "--set", "mixed"]) == 0
    out = capsys.readouterr().out
    assert "0 added" in out and "4 unchanged" in out and "skipped" in out
    (tmp_path / "nothing").mkdir()
    assert main(["clip", "index", str(tmp_path / "nothing"), "--set", "x"]) == 2
    assert "contains no image files" in capsys.readouterr().err


def test_similarity_info_and_get_weights(cli_env, capsys):
    assert main(["clip", "similarity", "-n", "4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["matrix"]) == 4 and len(result["captions"]) == 4
    assert main(["clip", "similarity", "-n", "3"]) == 0
    assert "diagonal is the row maximum" in capsys.readouterr().out
    assert main(["clip", "info"]) == 0
    out = capsys.readouterr().out
    assert "model: mini-clip" in out and "held-out zero-shot top-1" in out and "demo" in out
    assert main(["clip", "get-weights", "--model", "mini-clip"]) == 2
    assert "ships with Erica" in capsys.readouterr().err


def test_localize(cli_env, capsys, tmp_path: Path):
    from tests.clip.conftest import two_objects

    image = tmp_path / "two.png"
    two_objects(200).save(image)
    out_png = tmp_path / "heat.png"
    assert main(["clip", "localize", str(image), "a red circle", "--out", str(out_png),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    x0, _, x1, _ = result["best_box"]
    assert (x0 + x1) / 2 < 100 and out_png.is_file()


def test_train_writes_safetensors(cli_env, capsys, tmp_path: Path):
    out = tmp_path / "mine.safetensors"
    assert main(["clip", "train", "--steps", "2", "--batch-size", "8", "--eval-images", "12",
                 "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert out.is_file() and summary["steps"] == 2 and summary["chance"] == pytest.approx(
        1 / 36, abs=1e-4)
    assert (tmp_path / "mine.meta.json").is_file()
    assert main(["clip", "train", "--steps", "1", "--out", str(tmp_path / "x.pt")]) == 2

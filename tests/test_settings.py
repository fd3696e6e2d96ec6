from pathlib import Path

import pytest

from knowledge.errors import InvalidInputError
from tutor.settings import load_settings


def test_defaults():
    s = load_settings()
    assert (s.semantic_results, s.prerequisite_depth, s.max_concepts) == (5, 2, 10)
    assert s.ui_host == "127.0.0.1" and s.chroma_url == ""
    assert s.chroma_path == s.data_dir / "chroma"


def test_file_then_environment_then_overrides(tmp_path: Path, monkeypatch):
    cfg = tmp_path / "erica.toml"
    cfg.write_text('data_dir = "/srv/erica"\nsemantic_results = 7\nmax_concepts = 12\n')
    monkeypatch.setenv("ERICA_CONFIG", str(cfg))
    monkeypatch.setenv("ERICA_SEMANTIC_RESULTS", "9")
    s = load_settings(max_concepts=3)
    assert s.data_dir == Path("/srv/erica")
    assert s.semantic_results == 9 and s.max_concepts == 3


@pytest.mark.catalogue(case="settings: bad values", expect="InvalidInputError naming the setting")
def test_bad_values_are_named(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ERICA_SEMANTIC_RESULTS", "lots")
    with pytest.raises(InvalidInputError, match="semantic_results='lots'"):
        load_settings()
    monkeypatch.setenv("ERICA_SEMANTIC_RESULTS", "0")
    with pytest.raises(InvalidInputError, match="between 1 and 100"):
        load_settings()
    monkeypatch.delenv("ERICA_SEMANTIC_RESULTS")
    cfg = tmp_path / "erica.toml"
    cfg.write_text("semantic_reslts = 3\n")
    monkeypatch.setenv("ERICA_CONFIG", str(cfg))
    with pytest.raises(InvalidInputError, match="unknown setting"):
        load_settings()


def test_course_dirs_from_env(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("ERICA_COURSE_DIRS", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert load_settings().course_dirs == (tmp_path / "a", tmp_path / "b")


def test_models_dir_follows_the_data_dir_unless_set(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("ERICA_DATA_DIR", str(tmp_path / "data"))
    assert load_settings().models_dir == tmp_path / "data" / "models"
    monkeypatch.setenv("ERICA_MODELS_DIR", str(tmp_path / "shared-models"))
    settings = load_settings()
    assert settings.models_dir == tmp_path / "shared-models"
    assert settings.as_dict()["models_dir"] == str(tmp_path / "shared-models")

from pathlib import Path

import pytest

from knowledge.common.errors import InvalidInputError
from tutor.settings import Settings, load_settings, replace, settings_bounds, settings_help


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


@pytest.mark.catalogue
def test_non_utf8_settings_file_is_a_clear_error(tmp_path: Path, monkeypatch):
    cfg = tmp_path / "erica.toml"
    cfg.write_bytes('ui_host = "caf\xe9"\n'.encode("latin-1"))
    monkeypatch.setenv("ERICA_CONFIG", str(cfg))
    with pytest.raises(InvalidInputError, match="not UTF-8") as info:
        load_settings()
    assert str(cfg) in info.value.cause and "UTF-8" in info.value.fix


def test_one_declaration_gives_bounds_help_and_checks(monkeypatch):
    assert settings_bounds("prerequisite_depth") == (0, 10)
    assert settings_bounds("semantic_results") == (1, 100)
    assert "default 2" in settings_help("prerequisite_depth")
    # the whole declared range is valid config, the bound + 1 is not, named with its range
    monkeypatch.setenv("ERICA_PREREQUISITE_DEPTH", "10")
    assert load_settings().prerequisite_depth == 10
    monkeypatch.setenv("ERICA_PREREQUISITE_DEPTH", "11")
    with pytest.raises(InvalidInputError, match=r"prerequisite_depth must be between 0 and 10"):
        load_settings()


def test_replace_and_direct_construction_validate_like_loading():
    s = Settings(data_dir=Path("/tmp/erica-x"))  # defaults + arguments, no environment
    assert s.models_dir == Path("/tmp/erica-x/models")
    assert replace(s, max_concepts=4).max_concepts == 4
    with pytest.raises(InvalidInputError, match="max_concepts must be between 1 and 100"):
        replace(s, max_concepts=0)
    with pytest.raises(InvalidInputError, match="log_level"):
        replace(s, log_level="LOUD")
    assert hash(s) == hash(Settings(data_dir=Path("/tmp/erica-x")))


def test_retrieval_options_use_the_settings_bounds():
    from tutor.runtime import retrieval_options

    s = Settings()
    assert retrieval_options(s, None, 10, None) == (5, 10, 10)
    with pytest.raises(InvalidInputError, match="prerequisite_depth must be between 0 and 10"):
        retrieval_options(s, None, 11, None)

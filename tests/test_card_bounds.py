"""Hostile card files: a YAML "billion laughs", endless aliases, deep nesting, too many cards.

Each is refused before anything is built from it, with the file named and a fix, by
`kb validate`, `kb build` and ingestion alike (issue 15, item 2).
"""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import pytest

from knowledge import cards as cards_module
from knowledge.cards import MAX_CARDS_PER_FILE, load_card_file, load_cards
from knowledge.common.errors import CardError
from tests.conftest import MINI_COURSE, erica_env
from tutor.cli import main


def billion_laughs(path: Path, levels: int = 9) -> Path:
    """The classic: nine levels of ten aliases each, 10**9 strings once expanded (5.9 GB of
    RSS before the fix), in a file of about 1 kB that is otherwise a valid unit."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", '
             '"lol"]']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]")
    path.write_text("unit: laughs\n" + "\n".join(lines) + "\ncards:\n"
                    "  - id: laughing\n    name: Laughing\n"
                    f"    summary: A card.\n    aliases: *lol{levels}\n")
    return path


@pytest.fixture
def course_with_bomb(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(MINI_COURSE, course)
    billion_laughs(course / "laughs.yaml")
    return course


@pytest.mark.catalogue(case="card file: YAML billion laughs",
                       expect="validate, build and ingest refuse it in bounded memory")
def test_billion_laughs_fails_fast_with_bounded_memory(course_with_bomb: Path, tmp_path: Path,
                                                       use_env, capsys):
    use_env(erica_env(tmp_path / "data", course_with_bomb))
    tracemalloc.start()
    try:
        code = main(["kb", "validate"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == CardError.exit_code
    assert "laughs.yaml" in err and "billion laughs" in err and "fix:" in err
    assert peak < 50 * 2**20, f"validate used {peak / 2**20:.0f} MB"
    assert main(["kb", "build"]) == CardError.exit_code
    assert "billion laughs" in capsys.readouterr().err
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lecture.md").write_text("# Search\n\nBreadth-first search expands the "
                                      "shallowest node first.\n")
    assert main(["kb", "ingest", str(notes), "--course", "notes"]) == CardError.exit_code
    assert "billion laughs" in capsys.readouterr().err


@pytest.mark.catalogue(case="card file: recursive alias / deep nesting")
def test_recursive_alias_and_deep_nesting_are_refused(tmp_path: Path):
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("unit: r\ncards: &all\n  - id: a\n    name: A\n    summary: s.\n"
                         "    related: *all\n")
    with pytest.raises(CardError, match="inside its own anchor") as err:
        load_card_file(recursive)
    assert str(recursive) in err.value.cause and err.value.fix
    deep = tmp_path / "deep.yaml"
    deep.write_text("unit: d\ncards: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(CardError, match="nested more than"):
        load_card_file(deep)


def test_a_few_shared_anchors_still_load(tmp_path: Path):
    """Anchors are YAML; a teacher sharing one sources list between cards is fine."""
    shared = tmp_path / "shared.yaml"
    shared.write_text("unit: s\nbook: &book [AIMA 4th ed.]\ncards:\n"
                      "  - {id: a, name: A, summary: s., sources: *book}\n"
                      "  - {id: b, name: B, summary: s., sources: *book}\n")
    assert [c.sources for c in load_card_file(shared)] == [("AIMA 4th ed.",)] * 2


@pytest.mark.catalogue(case="card file: too many cards (per file, per course)")
def test_card_counts_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    many = tmp_path / "many.yaml"
    many.write_text("unit: m\ncards:\n" + "".join(
        f"  - {{id: c{i}, name: C{i}, summary: s.}}\n" for i in range(MAX_CARDS_PER_FILE + 1)))
    with pytest.raises(CardError, match="cards in one file") as err:
        load_card_file(many)
    assert "split" in err.value.fix
    monkeypatch.setattr(cards_module, "MAX_CARDS", 10)  # the mini course has 15
    with pytest.raises(CardError, match="more than 10 cards"):
        load_cards([MINI_COURSE])

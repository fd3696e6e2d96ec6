from pathlib import Path

import pytest

from knowledge.cards import Concept, dump_cards, load_card_file, load_cards
from knowledge.common.errors import CardError
from tests.conftest import MINI_COURSE


def test_mini_course_loads_with_units_and_lines():
    cards = load_cards([MINI_COURSE])
    assert len(cards) == 15
    clip = next(c for c in cards if c.id == "clip")
    assert clip.unit == "deep_learning"
    assert clip.prerequisites == ("contrastive-learning", "transformer", "cosine-similarity")
    assert clip.source_file.endswith("deep.yaml") and clip.line > 1


@pytest.mark.catalogue(case="card file: broken YAML", expect="file:line and a fix")
def test_yaml_error_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("unit: x\ncards:\n  - id: a\n    name: [unclosed\n    summary: s\n")
    with pytest.raises(CardError) as err:
        load_card_file(bad)
    assert f"{bad}:" in err.value.cause and "YAML error" in err.value.cause
    assert err.value.fix


def test_card_without_id_is_rejected_with_line(tmp_path: Path):
    bad = tmp_path / "u.yaml"
    bad.write_text("unit: u\ncards:\n  - name: Nameless\n    summary: s\n")
    with pytest.raises(CardError, match=r"u.yaml:3: a card needs 'id' and 'name'"):
        load_card_file(bad)


@pytest.mark.catalogue(case="card file: not UTF-8 / wrong shape")
def test_non_utf8_and_wrong_shape(tmp_path: Path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("unit: u\ncards: []\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(CardError, match="not UTF-8"):
        load_card_file(latin)
    shape = tmp_path / "list.yaml"
    shape.write_text("- just a list\n")
    with pytest.raises(CardError, match="'cards' list"):
        load_card_file(shape)


@pytest.mark.catalogue(case="card file: python/object tag", expect="refused, nothing run")
def test_yaml_tags_cannot_run_code(tmp_path: Path):
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("unit: u\ncards: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(CardError):
        load_card_file(hostile)


def test_dump_round_trip(tmp_path: Path):
    card = Concept(id="a-b", name="A B", unit="u", summary="S.", aliases=("ab",),
                   prerequisites=("c",), origin="ingested")
    path = tmp_path / "u.yaml"
    path.write_text(dump_cards("u", [card]))
    (back,) = load_card_file(path)
    assert back == card

"""Legacy text encodings (issue 15, item 4): detected with charset-normalizer and accepted only
when the result reads as English, Czech or Russian; otherwise the file is reported, not stored
as gibberish."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from knowledge.ingest.readers import (
    SkipFile,
    decode_text,
    read_file,
    reads_as_supported_language,
)

RUSSIAN = ("# Лекция 4: Нейронные сети\n\nНейронная сеть состоит из слоёв искусственных "
           "нейронов. Каждый нейрон вычисляет взвешенную сумму входов и применяет функцию "
           "активации. Обучение идёт методом обратного распространения ошибки.\n")
CZECH = ("# Přednáška 3: Prohledávání do šířky\n\nAlgoritmus prohledává graf po vrstvách a "
         "používá frontu. Příliš žluťoučký kůň úpěl ďábelské ódy.\n")


@pytest.mark.catalogue
@pytest.mark.parametrize("encoding", ["koi8_r", "cp866", "iso8859_5", "mac_cyrillic"])
def test_russian_code_pages_other_than_cp1251_are_read_right(tmp_path: Path, encoding):
    path = tmp_path / "lecture4.md"
    path.write_bytes(RUSSIAN.encode(encoding))
    doc = read_file(path)
    assert doc.encoding == encoding
    assert doc.title == "Лекция 4: Нейронные сети"
    assert "обратного распространения ошибки" in doc.segments[0].text


def test_czech_latin2_is_read_right(tmp_path: Path):
    path = tmp_path / "prednaska.md"
    path.write_bytes(CZECH.encode("iso8859_2"))
    doc = read_file(path)
    assert doc.encoding == "iso8859_2" and "Příliš žluťoučký kůň" in doc.segments[0].text


def test_the_plausibility_check_sees_a_wrong_code_page():
    assert reads_as_supported_language(RUSSIAN) and reads_as_supported_language(CZECH)
    assert not reads_as_supported_language(RUSSIAN.encode("koi8_r").decode("cp1251"))
    assert not reads_as_supported_language(CZECH.encode("iso8859_2").decode("cp1250"))


@pytest.mark.catalogue
def test_text_in_no_recognisable_encoding_is_reported_and_skipped(tmp_path: Path):
    rng = random.Random(7)
    data = b"Notes: " + bytes(rng.randrange(0x80, 0x100) for _ in range(600)) + b" end.\n"
    with pytest.raises(SkipFile, match="encoding could not be recognised") as err:
        decode_text(data)
    assert "UTF-8" in err.value.fix

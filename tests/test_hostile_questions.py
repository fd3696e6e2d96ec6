"""Questions nobody should type but someone will: bytes from a non-UTF-8 terminal, lone
surrogates, emoji (issue 15, item 5 and the question part of the catalogue)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from knowledge.questions import clean_question, recover_text
from tests.conftest import ROOT, erica_env
from tutor import runtime
from tutor.cli import main


@pytest.mark.catalogue(case="question: Latin-1 byte from a non-UTF-8 terminal (argv)",
                       expect="decoded as the student typed it")
def test_latin1_question_from_the_command_line(mini_store, tmp_path):
    """`erica retrieve "$(printf 'Qu\\xe9 es CLIP?')"` on a UTF-8 locale: Python hands the
    byte over as a surrogate escape, which the tokenizer refused with a TypeError."""
    env = {**os.environ, **erica_env(mini_store), "LC_ALL": "C.UTF-8",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "tutor.cli", "retrieve", b"Qu\xe9 es CLIP?", "--json", "--k", "1"],
        capture_output=True, env=env, cwd=tmp_path, timeout=300)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, err
    assert "Traceback" not in err
    out = json.loads(done.stdout)
    assert out["question"] == "Qué es CLIP?" and out["matches"][0]["id"] == "clip"


@pytest.mark.catalogue(case="question: surrogate escape through `erica ask`")
def test_ask_with_an_undecodable_byte(mini_settings, capsys):
    assert main(["ask", "Qu\udce9 es CLIP?", "--json", "--k", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == "Qué es CLIP?" and out["matches"][0]["id"] == "clip"


def test_surrogates_are_recovered_or_replaced():
    assert recover_text("Qu\udce9") == "Qué"  # Latin-1 / Windows-1252 byte
    assert recover_text("\udcc3\udca9t\udcc3\udca9") == "été"  # UTF-8 split by a bad layer
    assert recover_text("a \ud83e b") == "a \ufffd b"  # half an emoji from JSON
    assert clean_question("  Qu\udce9 es\udc80 CLIP?  ") == "Qué es\u20ac CLIP?"


@pytest.mark.catalogue(case="question: lone surrogate and emoji", expect="answered")
def test_lone_surrogate_and_emoji_questions_are_answered(mini_settings):
    retriever = runtime.retriever(mini_settings)
    assert retriever.retrieve("what is \ud83e CLIP?", k=1).matches[0].id == "clip"
    result = retriever.retrieve("🤖 What is CLIP? 🚀🔥👀", k=1)
    assert result.matches[0].id == "clip" and result.question.startswith("🤖")

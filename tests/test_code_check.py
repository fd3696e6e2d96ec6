"""The stated-value convention of course code: parsing, comparison, and real runs."""

from __future__ import annotations

import pytest

from knowledge.cards import Concept
from knowledge.code_check import (
    compare_output,
    parse_stated_values,
    run_card_code,
    run_cards_code,
)


def card(code: str, card_id: str = "demo") -> Concept:
    return Concept(id=card_id, name="Demo", unit="demo", summary="A demo card.", code=code)


# -- parsing ---------------------------------------------------------------------------------

def test_trailing_marker_states_the_print_on_its_line() -> None:
    stated, problems = parse_stated_values("x = 2\nprint(x + 1)  # -> 3\nprint(x)  # just x\n")
    assert problems == []
    assert [(s.line, s.first_line, s.last_line, s.text, s.approximate) for s in stated] == [
        (2, 2, 2, "3", False)
    ]


def test_approximate_marker_and_marker_on_the_line_below() -> None:
    stated, problems = parse_stated_values("print(1 / 3)\n# ≈ 0.333\n")
    assert problems == []
    assert (stated[0].first_line, stated[0].text, stated[0].approximate) == (1, "0.333", True)


def test_long_output_continues_on_following_marker_lines() -> None:
    code = "import numpy as np\nprint(np.eye(2))  # -> [[1. 0.]\n# ->  [0. 1.]]\nprint(1)\n"
    stated, problems = parse_stated_values(code)
    assert problems == []
    assert len(stated) == 1
    assert stated[0].text == "[[1. 0.]\n[0. 1.]]"


def test_multiline_print_covers_all_its_lines() -> None:
    stated, _ = parse_stated_values("print(1,\n      2)  # -> 1 2\n")
    assert (stated[0].first_line, stated[0].last_line) == (1, 2)


def test_explanation_before_the_marker_on_a_print_line() -> None:
    code = "print(4 / 2)  # divide by n -> 2.0\ny = 784  # 784 -> 32 numbers, not checked\n"
    stated, problems = parse_stated_values(code)
    assert problems == []
    assert [(s.line, s.text) for s in stated] == [(1, "2.0")]


def test_marker_away_from_a_print_is_a_problem() -> None:
    stated, problems = parse_stated_values("y = 3  # -> 3\n")
    assert stated == []
    assert len(problems) == 1 and "line 1" in problems[0] and "print" in problems[0]


def test_hash_inside_a_string_is_not_a_comment() -> None:
    stated, problems = parse_stated_values('print("# -> 4")\n')
    assert stated == [] and problems == []


def test_explanations_and_unparsable_code_state_nothing() -> None:
    assert parse_stated_values("print(2)  # two, as expected\n") == ([], [])
    assert parse_stated_values("path(X, Y) :- link(X, Y).  # -> true\n") == ([], [])


# -- comparison ------------------------------------------------------------------------------

@pytest.mark.parametrize(("stated", "printed", "approximate"), [
    ("3", "3\n", False),
    ("0.8808", "0.8807970779778823", False),
    ("3.8e-06", "3.814697265625e-06", False),
    ("-0.106", "tensor(-0.1058)", True),  # numbers-only statements ignore the words
    ("[0.665 0.245 0.09 ]", "[0.665 0.245 0.09 ]", False),
    ("[[19, 22], [43, 50]]", "[[19 22]\n [43 50]]", False),  # spacing, commas
    ("torch.Size([8, 16, 32, 32])", "torch.Size([8, 16, 32, 32])", False),
    ("True", "True", False),
    ("['spam']", "['spam']\n", False),
    ("12.0", "12.000000000039306", False),
    ("0.667", "0.6708", True),  # within 1 % plus half a unit
])
def test_matching_outputs(stated: str, printed: str, approximate: bool) -> None:
    assert compare_output(stated, printed, approximate) == ""


@pytest.mark.parametrize(("stated", "printed", "approximate", "reason"), [
    ("55", "55.2", False, "not 55"),  # an integer written under -> is exact
    ("0.8808", "0.8809", False, "not 0.8808"),
    ("-0.106", "tensor(-0.1200)", True, "not -0.106"),
    ("True", "False", False, "words differ"),
    ("C B", "B C", False, "words differ"),
    ("[1, 2]", "[1 2 3]", False, "2 numbers stated, 3 printed"),
    ("1.0", "nan", False, "numbers"),
    ("0.5", "tensor(0.5000, grad_fn=<X>) extra", False, ""),  # numbers only: ok
])
def test_mismatching_outputs(stated: str, printed: str, approximate: bool, reason: str) -> None:
    error = compare_output(stated, printed, approximate)
    if reason:
        assert reason in error
    else:
        assert error == ""


def test_approximate_widens_integers() -> None:
    assert compare_output("100", "100.9", True) == ""
    assert compare_output("100", "102", True) != ""


# -- real runs in a subprocess ---------------------------------------------------------------

def test_run_card_code_checks_stated_values() -> None:
    run = run_card_code(card("x = [1, 2]\nprint(sum(x))  # -> 3\nprint(len(x))  # -> 5\n"))
    assert run.returncode == 0 and not run.timed_out
    assert [c.ok for c in run.checks] == [True, False]
    assert run.checks[1].printed == "2\n"
    assert not run.ok
    assert "line 3" in run.failures()[0]


def test_run_card_code_reports_errors_and_unrun_prints() -> None:
    run = run_card_code(card("print(undefined_name)  # -> 1\n"))
    assert run.returncode == 1
    assert "NameError" in run.stderr
    assert run.checks[0].printed is None and not run.ok


def test_run_card_code_has_a_time_limit() -> None:
    run = run_card_code(card("while True:\n    pass\n"), timeout_s=1.0)
    assert run.timed_out and not run.ok
    assert run.duration_s < 10


def test_run_card_code_is_offline_and_isolated() -> None:
    code = (
        "import os, socket, sys\n"
        "print(os.environ['HF_HUB_OFFLINE'], os.listdir('.'), os.environ['HOME'] == os.getcwd())"
        "  # -> 1 [] True\n"
        "print('knowledge' in sys.modules)  # -> False\n"
        "socket.create_connection(('example.org', 80), timeout=1)\n"
    )
    run = run_card_code(card(code))
    assert [c.error for c in run.checks] == ["", ""]
    assert run.returncode == 1 and "network access is disabled" in run.stderr


def test_pool_runs_each_snippet_in_a_fresh_process() -> None:
    writer = card("import json\njson.SENTINEL = 1\nx = 41\nprint(x + 1)  # -> 42\n", "writer")
    reader = card(
        "import json, os\nprint(hasattr(json, 'SENTINEL'), 'x' in globals(), os.listdir('.'),"
        " os.environ['HOME'] == os.getcwd())  # -> False False [] True\n",
        "reader",
    )
    slow = card("import time\ntime.sleep(30)\n", "slow")
    runs = run_cards_code([writer, reader, slow, writer, reader], timeout_s=2.0, workers=1,
                          preload=("json",))
    assert runs["writer"].ok and runs["reader"].ok, [r.failures() for r in runs.values()]
    assert runs["slow"].timed_out

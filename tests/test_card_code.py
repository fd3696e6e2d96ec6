"""Every code block of the shipped course runs offline, and the values it states are right.

Lessons show a card's ``code`` verbatim, so each snippet is executed in its own fresh process
(see ``knowledge.code_check``) and every ``print(...)  # -> value`` is checked. The snippets
of the selected cards run once, two at a time, before the first test of this module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.cards import Concept, load_cards
from knowledge.code_check import CodeRun, run_cards_code
from tutor.settings import SHIPPED_COURSE

CODE_CARDS = {c.id: c for c in load_cards([SHIPPED_COURSE]) if c.code.strip()}
# Per snippet: the slowest needs about 3 s of CPU, but this runs on shared machines.
TIMEOUT_S = 120.0
WORKERS = 2
# All snippets take about 25 s of CPU; the first test also waits for them to run.
pytestmark = pytest.mark.timeout(1800)


@pytest.fixture(scope="module")
def card_runs(request: pytest.FixtureRequest) -> dict[str, CodeRun]:
    """Run the code of the cards whose tests were selected (all of them by default)."""
    wanted = {
        item.callspec.params["card_id"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_card_code_runs_and_states_right_values"
    }
    return run_cards_code([CODE_CARDS[i] for i in sorted(wanted)], TIMEOUT_S, WORKERS)


def test_the_course_has_code_to_check() -> None:
    assert len(CODE_CARDS) >= 170


@pytest.mark.parametrize("card_id", sorted(CODE_CARDS))
def test_card_code_runs_and_states_right_values(
    card_id: str, card_runs: dict[str, CodeRun]
) -> None:
    card: Concept = CODE_CARDS[card_id]
    where = f"{card_id} ({Path(card.source_file).name}:{card.line})"
    run = card_runs[card_id]
    assert run.checks, f"{where}: states no printed value; end a print line with '# -> value'"
    detail = "\n".join(run.failures()) + "\n--- stderr ---\n" + run.stderr[-1500:]
    assert run.ok, f"{where}:\n{detail}"

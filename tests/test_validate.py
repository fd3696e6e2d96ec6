import pytest

from knowledge.cards import Concept, load_cards
from knowledge.validate import find_cycle, lint, validate
from tests.conftest import MINI_COURSE


def card(cid: str, *prereqs: str, name: str | None = None, summary: str = "A summary.",
         aliases: tuple[str, ...] = ()) -> Concept:
    return Concept(id=cid, name=name or cid.title(), unit="u", summary=summary,
                   prerequisites=prereqs, aliases=aliases)


def test_mini_course_is_valid():
    assert validate(load_cards([MINI_COURSE])) == []


@pytest.mark.catalogue(case="cards: duplicate ids, names and bad references")
def test_each_structural_rule_is_reported():
    cards = [
        card("a"), card("a"),  # duplicate id
        card("b", "missing"),  # unknown prerequisite
        card("c", summary="  "),  # empty summary
        card("d", name="A"),  # duplicate name (case-insensitive)
        card("Bad_Id"),  # not a slug
        card("e", "e"),  # itself
    ]
    messages = "\n".join(str(p) for p in validate(cards))
    assert "duplicate id 'a'" in messages
    assert "unknown id 'missing'" in messages
    assert "c: empty summary" in messages
    assert "also used by 'a'" in messages
    assert "not a slug" in messages
    assert "lists itself" in messages


def test_cycle_is_printed_in_order():
    cards = [card("a", "c"), card("b", "a"), card("c", "b")]
    cycle = find_cycle(cards)
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert any("cycle: " in str(p) for p in validate(cards))


def test_lint_flags_short_explanations_and_missing_sources():
    problems = [str(p) for p in lint([card("a")], roots_allowed=5)]
    assert any("explanation has 0 words" in p for p in problems)
    assert any("no sources" in p for p in problems)

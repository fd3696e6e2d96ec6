from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.cards import Concept, dump_cards, load_card_file, load_cards
from knowledge.validate import find_cycle, graph_warnings, lint, validate
from tests.conftest import MINI_COURSE


def card(cid: str, *prereqs: str, name: str | None = None, summary: str = "A summary.",
         aliases: tuple[str, ...] = (), **fields) -> Concept:
    return Concept(id=cid, name=name or cid.title(), unit="u", summary=summary,
                   prerequisites=prereqs, aliases=aliases, **fields)


MINI = load_cards([MINI_COURSE])


def warnings_of(cards: list[Concept], rule: str, **kwargs) -> dict[str, str]:
    """card id -> message of the warnings of one rule."""
    return {w.card_id: w.message for w in graph_warnings(cards, **kwargs) if w.rule == rule}


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


def test_kind_is_read_checked_and_left_out_of_dumps_when_default(tmp_path: Path):
    path = tmp_path / "u.yaml"
    path.write_text("unit: u\ncards:\n  - {id: p8, name: 8-puzzle, summary: s., kind: example}\n"
                    "  - {id: bfs, name: BFS, summary: s.}\n")
    puzzle, bfs = load_card_file(path)
    assert (puzzle.kind, bfs.kind) == ("example", "concept")
    dumped = dump_cards("u", [puzzle, bfs])
    assert dumped.count("kind:") == 1 and "kind: example" in dumped
    assert any("kind 'toy' not one of" in str(p) for p in validate([card("a", kind="toy")]))


def test_mini_course_has_no_graph_warnings():
    assert graph_warnings(MINI) == []


def test_warns_when_the_only_prerequisite_is_an_overview_history_or_example_card():
    cards = [*MINI, card("eight-puzzle", "search-problem", kind="example"),
             card("iterative-deepening", "eight-puzzle"),
             card("ida-star", "eight-puzzle", "a-star-search")]
    found = warnings_of(cards, "non-concept-only")
    assert set(found) == {"iterative-deepening"}  # with a real prerequisite beside it, fine
    assert "'eight-puzzle' is an example card" in found["iterative-deepening"]


def test_warns_on_more_ancestors_than_the_level_allows():
    assert warnings_of(MINI, "too-many-ancestors") == {}
    found = warnings_of(MINI, "too-many-ancestors", max_ancestors={"advanced": 8})
    # clip has 8 ancestors (allowed), zero-shot classification 9
    assert set(found) == {"zero-shot-classification"}
    assert "9 ancestors, more than 8 for an advanced card" in found["zero-shot-classification"]


def test_warns_on_an_intro_card_that_needs_an_advanced_one():
    cards = [*MINI, card("image-search", "clip", level="intro"),
             card("clip-lab", "clip", level="intermediate")]
    assert set(warnings_of(cards, "intro-needs-advanced")) == {"image-search"}


def test_warns_on_concepts_named_but_not_linked():
    text = ("Rank images by cosine similarity to the text, in BFS order; a bfs or a transformer "
            "(deep learning) are not mentions, and the photo search app builds on this card.")
    base = card("image-ranking", "embedding", explanation=text)
    app = card("photo-search-app", "image-ranking", name="Photo search app")
    found = warnings_of([*MINI, base, app], "unlinked-mention")
    assert set(found) == {"image-ranking"}
    assert "names breadth-first-search, cosine-similarity, neither" in found["image-ranking"]
    linked = replace(base, prerequisites=("embedding", "cosine-similarity"),
                     related=("breadth-first-search",))
    assert warnings_of([*MINI, linked, app], "unlinked-mention") == {}
    # a related link written on the other card counts too
    other_way = [replace(c, related=("image-ranking",)) if c.id == "breadth-first-search" else c
                 for c in MINI]
    unrelated = replace(linked, related=())
    assert warnings_of([*other_way, unrelated, app], "unlinked-mention") == {}

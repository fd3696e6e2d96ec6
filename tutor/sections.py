"""The parts of a lesson that come straight from the cards and the graph (no model).

Rules the sections follow:

- The lesson is about its *main* concepts: the best match, plus up to one more match that the
  question names outright ("compare A* and greedy best-first").
- Every prerequisite and next step is shown for the main concept it belongs to (an ancestor of
  that concept within the chosen depth, a concept that builds on it directly).
- No card sentence is shown twice in one lesson; sentences of a card's explanation that say
  what the concept is used for go to *Applications*.
- A section a card has no text for is left out, never filled in by the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from knowledge.cards import Concept
from knowledge.course import Course
from knowledge.graph import ancestors_within
from knowledge.retrieval import Retrieval, RetrievedConcept
from tutor.reading import further_reading
from tutor.sentences import split_sentences

MAX_MAIN = 2
MAX_NEXT = 4
_USE = re.compile(r"\b(used (?:for|in|to|by|as)|uses? (?:it|them|this)|applied|applications?|"
                  r"powers|enables|in practice|widely|deployed|is the basis of|underlies|"
                  r"appears in|for tasks? (?:such as|like))\b", re.IGNORECASE)


@dataclass
class CardSections:
    """The card-first part of a lesson, as Markdown sections in reading order."""

    title: str
    main: list[RetrievedConcept]
    sections: list[tuple[str, str]] = field(default_factory=list)  # (heading, body)
    code_cards: list[str] = field(default_factory=list)  # ids whose code is shown

    def markdown(self, headings: tuple[str, ...] | None = None) -> str:
        """The sections (all, or those with the given headings) as Markdown."""
        return "".join(f"## {h}\n{body.rstrip()}\n\n" for h, body in self.sections
                       if headings is None or h in headings)

    def headings(self) -> list[str]:
        return [h for h, _ in self.sections]


def main_concepts(retrieval: Retrieval, course: Course) -> list[RetrievedConcept]:
    """The best match, plus a match the question names outright (up to ``MAX_MAIN``)."""
    matched = retrieval.matched
    if not matched:
        return []
    named = course.labels.mentioned(retrieval.question)
    extra = [c for c in matched[1:] if c.id in named and c.id not in
             nx.ancestors(course.graph, matched[0].id)]
    return [matched[0], *extra][:MAX_MAIN]


def compose(retrieval: Retrieval, course: Course, depth: int) -> CardSections:
    """Every section the cards and the graph can fill, for the main concepts."""
    main = main_concepts(retrieval, course)
    title = " and ".join(c.name for c in main) if main else "Your question"
    result = CardSections(title, main)
    shown: set[str] = set()  # normalised sentences already in the lesson

    def fresh(text: str) -> list[str]:
        out = []
        for sentence in split_sentences(text):
            key = _key(sentence)
            if key not in shown:
                shown.add(key)
                out.append(sentence)
        return out

    why = [" ".join(fresh(c.card.summary)) for c in main]
    result.sections.append(("Why it matters", "\n\n".join(
        (f"**{c.name}**: {text}" if len(main) > 1 else text) for c, text in zip(main, why,
                                                                              strict=True))))
    result.sections.append(("Prerequisites", _prerequisites(retrieval, course, main, depth)))

    explanation, uses = [], []
    for concept in main:
        sentences = fresh(concept.card.explanation)
        kept = [s for s in sentences if not _USE.search(s)] or sentences
        uses += [(concept, s) for s in sentences if s not in kept]
        if kept:
            head = f"### {concept.name}\n" if len(main) > 1 else ""
            explanation.append(head + " ".join(kept))
    if explanation:
        result.sections.append(("Explanation", "\n\n".join(explanation)))

    examples = [(c, " ".join(fresh(c.card.example))) for c in main if c.card.example]
    examples = [(c, text) for c, text in examples if text]
    if examples:
        result.sections.append(("Worked example", "\n\n".join(
            text + f"\n\n_From the card **{c.name}**._" for c, text in examples)))

    code_from = [c for c in main if c.card.code] or [
        c for c in retrieval.matched[:3] if c.card.code][:1]
    if code_from:
        result.code_cards = [c.id for c in code_from]
        result.sections.append(("Code", "\n\n".join(
            f"```python\n{c.card.code.strip()}\n```\n_Code from the card **{c.name}** "
            "(it runs offline: the course tests every code block)._" for c in code_from)))

    applications = _applications(course, main, uses)
    if applications:
        result.sections.append(("Applications", applications))
    result.sections.append(("Summary", _summary(retrieval, course, main, depth)))
    reading = further_reading_section(retrieval)
    if reading:
        result.sections.append(("Further reading", reading))
    result.sections.append(("Next steps", _next_steps(course, main)))
    return result


def _key(sentence: str) -> str:
    return re.sub(r"\W+", " ", sentence.lower()).strip()


def prerequisites_of(retrieval: Retrieval, course: Course, concept_id: str,
                     depth: int) -> tuple[list[RetrievedConcept], int]:
    """The lesson's concepts that ``concept_id`` needs within ``depth`` steps, in learning-path
    order, and how many more such ancestors the *max concepts* cap left out."""
    ancestors = ancestors_within(course.graph, [concept_id], depth)
    kept = [c for c in retrieval.concepts if c.id in ancestors]
    return kept, len(ancestors) - len(kept)


def _prerequisites(retrieval: Retrieval, course: Course, main: list[RetrievedConcept],
                   depth: int) -> str:
    if depth == 0:
        return ("Prerequisites are hidden: *prerequisite depth* is 0 in the settings. Raise it "
                "to see what to learn first.\n")
    blocks = []
    for concept in main:
        kept, cut = prerequisites_of(retrieval, course, concept.id, depth)
        head = f"**For {concept.name}:**\n\n" if len(main) > 1 else ""
        if not kept and not cut:
            blocks.append(head + f"{concept.name} has no prerequisites in the course graph: "
                          "it is a starting point.\n")
            continue
        lines = [head + "Learn these first, in this order:\n"]
        members = {concept.id, *(c.id for c in kept)}
        for i, pre in enumerate(kept, 1):
            needers = [course.cards[s].name for s in course.graph.successors(pre.id)
                       if s in members]
            lines.append(f"{i}. **{pre.name}** (needed by {', '.join(needers)}): "
                         f"{pre.card.summary}")
        if cut:
            lines.append(f"\n_{cut} more prerequisite(s) within depth {depth} were left out by "
                         "*max concepts*._")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _applications(course: Course, main: list[RetrievedConcept],
                  uses: list[tuple[RetrievedConcept, str]]) -> str:
    lines = [f"- {s}" + (f" ({c.name})" if len(main) > 1 else "") for c, s in uses]
    for concept in main:
        builders = _successors(course, concept.id)
        if builders:
            names = ", ".join(f"**{course.cards[b].name}**" for b in builders)
            verb = "build" if len(builders) > 1 else "builds"
            lines.append(f"- In this course, {names} {verb} on {concept.name}.")
    return "\n".join(lines) + "\n" if lines else ""


def _successors(course: Course, concept_id: str) -> list[str]:
    graph = course.graph
    return sorted(graph.successors(concept_id),
                  key=lambda n: (-graph.out_degree(n), graph.in_degree(n), n))[:MAX_NEXT]


def _summary(retrieval: Retrieval, course: Course, main: list[RetrievedConcept],
             depth: int) -> str:
    lines = []
    for concept in main:
        direct = [course.cards[p].name for p in course.graph.predecessors(concept.id)]
        builders = [course.cards[b].name for b in _successors(course, concept.id)]
        text = f"- **{concept.name}**"
        text += f" rests on {', '.join(direct)}" if direct else " is a starting point"
        text += f" and leads to {', '.join(builders)}." if builders else "."
        lines.append(text)
    others = [c.name for c in retrieval.matched if c not in main][:4]
    if others:
        lines.append(f"- Also close to your question: {', '.join(others)}.")
    return "\n".join(lines) + "\n"


def _next_steps(course: Course, main: list[RetrievedConcept]) -> str:
    lines = []
    for concept in main:
        for succ in _successors(course, concept.id):
            card: Concept = course.cards[succ]
            lines.append(f"- **{card.name}** (builds on {concept.name}): {card.summary}")
    if not lines:
        return "- You have reached the end of this path in the course graph.\n"
    return "\n".join(lines) + "\n"


def further_reading_section(retrieval: Retrieval, max_sources: int = 6) -> str:
    """Course material passages, then the cards' sources, one line per source."""
    passages = retrieval.passages[:3]
    shown = {hit.label for hit in passages}
    cited_by: dict[str, list[str]] = {}
    ordered = [*retrieval.matched, *sorted(retrieval.prerequisites, key=lambda c: -c.score)]
    for concept in ordered:
        for source in concept.card.sources:
            if source not in shown:
                cited_by.setdefault(source, []).append(concept.name)
    lines = [*further_reading(passages)]
    lines += [f"- {source} ({', '.join(names)})\n"
              for source, names in list(cited_by.items())[:max_sources]]
    return "".join(lines)

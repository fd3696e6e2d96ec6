"""Rendering of what an answer was built from: concepts, cards and their subgraph."""

from __future__ import annotations

import streamlit as st

from knowledge.course import Course
from knowledge.graph import to_dot
from knowledge.retrieval import Retrieval

ROLE_COLOURS = {"match": "#ffd8a8", "prerequisite": "#d0ebff"}


def concept_table(retrieval: Retrieval) -> list[dict[str, object]]:
    return [{"#": i, "concept": c.name, "id": c.id, "role": c.role, "depth": c.depth,
             "score": round(c.score, 3)} for i, c in enumerate(retrieval.concepts, 1)]


def subgraph_dot(course: Course, retrieval: Retrieval) -> str:
    ids = [c.id for c in retrieval.concepts]
    colours = {c.id: ROLE_COLOURS[c.role] for c in retrieval.concepts}
    return to_dot(course.graph.subgraph(ids), highlight=colours)


VERDICT_LABELS = {"supported": "✅ shown", "meta": "✅ shown (about the notes)",
                  "unsupported": "⚠️ left out: not in the cards",
                  "contradicted": "⛔ left out: contradicts the cards"}


def show_checks(checks: list[dict]) -> None:
    """Each sentence the model wrote, its verdict, support score and the card sentence."""
    st.markdown("**The model's sentences, checked against the cards**")
    st.dataframe([{"sentence": c["sentence"], "verdict": VERDICT_LABELS[c["verdict"]],
                   "support": c["support"], "why": c["reason"], "card": c["card"],
                   "closest card sentence": c["evidence"]} for c in checks],
                 hide_index=True, width="stretch")


def show_retrieved_context(course: Course, retrieval: Retrieval, key: str,
                           checks: list[dict] | None = None) -> None:
    """The body of the *View Retrieved Context* expander."""
    if checks:
        show_checks(checks)
    st.caption("Learning-path order. Orange: semantic matches; blue: prerequisites "
               f"(question: “{retrieval.question[:120]}”"
               + (", read together with the previous question" if retrieval.used_history
                  else "") + ").")
    st.dataframe(concept_table(retrieval), hide_index=True, width="stretch")
    st.graphviz_chart(subgraph_dot(course, retrieval), width="stretch")
    for c in retrieval.concepts:
        card = c.card
        st.markdown(f"**{card.name}** · `{card.id}` · {c.role}"
                    + (f", depth {c.depth}" if c.role == "prerequisite" else "")
                    + f" · score {c.score:.3f}\n\n{card.summary}\n\n{card.explanation}")
        if card.sources:
            st.caption("Sources: " + "; ".join(card.sources))
    if retrieval.passages:
        st.markdown("**From the course material**")
        for hit in retrieval.passages:
            st.caption(f"{hit.label} · {hit.concept_name} · score {hit.score:.3f}")
            st.text(hit.text)

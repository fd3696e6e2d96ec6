"""Knowledge graph explorer: find a concept, read its card, see what it needs and enables."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import streamlit as st  # noqa: E402

from knowledge.graph import ancestors_within, learning_path, neighbourhood, to_dot  # noqa: E402
from tutor.settings import settings_bounds  # noqa: E402
from ui import resources  # noqa: E402

st.set_page_config(page_title="Erica - Knowledge graph", page_icon="🕸️", layout="wide")
st.title("Knowledge graph")
st.caption("Find a concept, read its card, and see what it needs and what builds on it.")

settings = resources.settings()
tutor = resources.tutor()
resources.wait_for_course()
course = resources.guarded(lambda: tutor.retriever.course)
if course is None:
    st.stop()

query = st.text_input("Find a concept", placeholder="e.g. A*, backpropagation, CLIP")
found = course.find(query) if query else []
if query and not found:
    hits = resources.guarded(lambda: tutor.retriever.retrieve(query, k=5, depth=0).matches)
    close = [m for m in hits or [] if m.score >= settings.min_match_score]
    if close:
        st.info(f"No concept name or alias contains “{query}”. The closest by meaning:")
    elif hits is not None:
        st.warning(f"Nothing in the course is close to “{query}”: no concept name or alias "
                   "contains it, and no concept is close to it in meaning. Try another word "
                   "(e.g. search, neural network, CLIP).")
    found = [course.cards[m.id] for m in close]
if not found:
    st.caption(f"{len(course.cards):,} concepts, {course.graph.number_of_edges():,} "
               "prerequisite links.")
    st.stop()

names = {f"{c.name} ({c.unit})": c.id for c in found[:50]}
choice = st.selectbox("Concept", list(names), index=0)
cid = names[choice]
card = course.cards[cid]

left, right = st.columns([2, 3])
with left:
    st.subheader(card.name)
    if card.aliases:
        st.caption("Also called: " + ", ".join(card.aliases))
    st.markdown(f"**{card.summary}**\n\n{card.explanation}")
    if card.example:
        st.markdown(f"**Example.** {card.example}")
    if card.code:
        st.code(card.code, language="python")
    if card.sources:
        st.caption("Read more: " + "; ".join(card.sources))
    st.caption(f"Unit `{card.unit}` · level {card.level} · id `{card.id}`")
    if st.button(f"Ask the tutor about {card.name}", type="primary"):
        st.session_state["pending_question"] = f"What is {card.name}?"
        st.switch_page("Chat.py")
with right:
    deepest = int(settings_bounds("prerequisite_depth")[1] or 10)
    up = st.slider("Prerequisite levels shown", 1, deepest,
                   max(1, resources.settings().prerequisite_depth))
    sub = neighbourhood(course.graph, cid, up=up, down=1)
    colours = {n: "#d0ebff" for n in sub} | {s: "#d3f9d8" for s in course.graph.successors(cid)}
    colours[cid] = "#ffd8a8"
    st.graphviz_chart(to_dot(sub, colours), width="content")
    st.caption("Orange: this concept · blue: what it needs · green: what builds on it.")


def _names(ids) -> list[str]:
    return sorted(course.cards[i].name for i in ids)


needs, builds = st.columns(2)
with needs:
    st.markdown(f"**{card.name} needs**")
    before = _names(course.graph.predecessors(cid))
    st.markdown("\n".join(f"- {n}" for n in before) if before else
                "Nothing: it is a starting point of the course.")
with builds:
    st.markdown(f"**What builds on {card.name}**")
    after = _names(course.graph.successors(cid))
    st.markdown("\n".join(f"- {n}" for n in after) if after else
                "Nothing yet in this course.")

st.subheader("Learning path")
ancestors = ancestors_within(course.graph, [cid], depth=10)
path = learning_path(course.graph, [*ancestors, cid], rank=lambda n: ancestors[n].depth
                     if n in ancestors else 0)
st.caption(f"{len(path)} steps, from the first prerequisite to {card.name}: every concept "
           "comes after what it needs.")
st.markdown(" → ".join(f"**{course.cards[n].name}**" if n == cid else course.cards[n].name
                       for n in path))

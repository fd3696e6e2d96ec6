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

tutor = resources.tutor()
course = resources.guarded(lambda: tutor.retriever.course)
if course is None:
    st.stop()

query = st.text_input("Find a concept", placeholder="e.g. A*, backpropagation, CLIP")
found = course.find(query) if query else []
if query and not found:
    st.info(f"No concept name or alias contains “{query}”. The closest by meaning:")
    hits = resources.guarded(lambda: tutor.retriever.retrieve(query, k=5, depth=0).matches)
    found = [course.cards[m.id] for m in hits or []]
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
    st.graphviz_chart(to_dot(sub, colours), width="stretch")
    st.caption("Orange: this concept · blue: what it needs · green: what builds on it.")

st.subheader("Learning path")
ancestors = ancestors_within(course.graph, [cid], depth=10)
path = learning_path(course.graph, [*ancestors, cid], rank=lambda n: ancestors[n].depth
                     if n in ancestors else 0)
st.markdown(" → ".join(f"**{course.cards[n].name}**" if n == cid else course.cards[n].name
                       for n in path[-25:]))
if len(path) > 25:
    st.caption(f"(last 25 of {len(path)} steps)")

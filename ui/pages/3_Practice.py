"""Practice and progress: questions from the cards, mastery per concept, what to study next,
and the learner's own data (export, delete)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import streamlit as st  # noqa: E402

from tutor.practice.study_next import unmastered_first  # noqa: E402
from ui import practice_view as pv  # noqa: E402
from ui import resources  # noqa: E402

st.set_page_config(page_title="Erica - Practice", page_icon="✏️", layout="wide")
st.title("Practice and progress")
st.caption(
    "Short questions from the course cards. Erica tracks how well you know each "
    "concept and says what to study next."
)

name = pv.learner_box()
if name is None:
    st.info("Type your name to start practising.")
    st.stop()
with st.spinner("Loading the course cards..."):
    course = resources.guarded(pv.course)
if course is None:
    st.stop()
progress = pv.progress(name)
if progress is None:  # the database could not be read: the error and its fix are shown
    st.caption("The chat and the knowledge graph work without the progress database.")
    st.stop()
tracker = progress.tracker
cards = course.cards

practice_tab, progress_tab, data_tab = st.tabs(["Practice", "Progress", "Your data"])


def _names(ids) -> str:
    return ", ".join(f"**{cards[i].name}**" for i in ids)


def _start(cid: str) -> None:
    """A new set: the concept's prerequisites that are not mastered first, then the concept."""
    from tutor.practice.questions import questions_for

    pres = [
        p
        for p in unmastered_first(tracker, list(course.graph.predecessors(cid)))
        if not tracker.mastered(p)
    ]
    questions = resources.guarded(
        questions_for, course, [*pres[:3], cid], per_concept=2, seed=len(progress.answers)
    )
    if questions is not None:
        st.session_state.practice = {
            "concept": cid,
            "questions": questions,
            "index": 0,
            "outcomes": {},
            "seed": len(progress.answers),
        }


with practice_tab:
    suggestions = progress.next(course.graph, limit=6)
    choices = {
        f"{cards[s.concept_id].name} ({'review' if s.kind == 'review' else 'next'}: "
        f"{s.why})": s.concept_id
        for s in suggestions
    }
    query = st.text_input(
        "Or find a concept", placeholder="e.g. A*, backpropagation, CLIP", max_chars=200
    )
    found = course.find(query)[:30] if query.strip() else []
    if query.strip() and not found:
        st.warning(f"No concept name or alias contains “{query.strip()}”.")
    choices |= {f"{c.name} ({c.unit})": c.id for c in found}
    start_at = len(suggestions) if found else 0
    label = st.selectbox("Concept to practise", list(choices), index=start_at) if choices else None
    cid = choices.get(label, next(iter(cards)))
    pres = [
        p
        for p in unmastered_first(tracker, list(course.graph.predecessors(cid)))
        if not tracker.mastered(p)
    ]
    if pres:
        st.info(
            f"{cards[cid].name} builds on {_names(pres)}, which you have not mastered "
            "yet: their questions come first."
        )
    if st.button("Start practising", type="primary"):
        _start(cid)
    run = st.session_state.get("practice")
    if run:
        questions, i = run["questions"], run["index"]
        if i < len(questions):
            q = questions[i]
            st.progress(
                i / len(questions),
                # A "which concept" question would be answered by its concept's name here.
                text=f"Question {i + 1} of {len(questions)}"
                + ("" if q.kind == "choice" else f" · {cards[q.concept_id].name}"),
            )
            key = f"{run['seed']}_{run['concept']}_{i}"
            if i not in run["outcomes"]:
                outcome = pv.question_form(q, key, name, pv.client_id())
                if outcome is not None:
                    run["outcomes"][i] = outcome
            if i in run["outcomes"]:
                pv.show_feedback(run["outcomes"][i])
                if st.button("Next question"):
                    run["index"] += 1
                    st.rerun()
        else:
            right = sum(c for c, _ in run["outcomes"].values())
            st.success(
                f"Done: {right} of {len(run['outcomes'])} right. The Progress tab "
                "shows your mastery and what to study next."
            )

with progress_tab:
    progress = pv.progress(name)  # answers given above in this run count
    if progress is not None:
        rows = progress.rows(cards)
        mastered = sum(r["mastered"] for r in rows)
        st.metric("Concepts mastered", f"{mastered} of {len(rows)} practised")
        st.progress(mastered / len(rows) if rows else 0.0)
        if rows:
            st.dataframe(
                rows,
                hide_index=True,
                column_config={
                    "mastery": st.column_config.ProgressColumn(
                        "mastery", min_value=0.0, max_value=1.0, format="%.2f"
                    )
                },
            )
        else:
            st.caption("No answers yet.")
        st.markdown("**Study next**")
        st.markdown(
            "\n".join(
                f"- {cards[s.concept_id].name}: {'review' if s.kind == 'review' else 'learn'} "
                f"({s.why}; mastery {s.mastery:.2f})"
                for s in progress.next(course.graph)
            )
        )
        st.caption(
            f"Mastered means P(known) ≥ {tracker.threshold:.2f} (Bayesian knowledge "
            "tracing over your answers, with evidence shared along the prerequisite "
            "graph). Reviews come 1, 3, 7, 16, 35 and 75 days after the last answer."
        )

with data_tab:
    st.markdown(f"Your answers are stored in `{pv.store().path}` on this machine only.")
    exported = resources.guarded(pv.store().export, name)
    if exported is not None:
        st.download_button(
            "Export my data (JSON)",
            json.dumps(exported, indent=2, ensure_ascii=False),
            file_name=f"erica-progress-{name}.json",
            mime="application/json",
        )
    st.markdown("**Delete my data**")
    confirm = st.text_input("Type your name to confirm", key="delete_confirm", max_chars=60)
    if st.button("Delete all my answers", type="secondary"):
        if confirm.strip().casefold() != name.casefold():
            st.warning("Type your name exactly as above to confirm.")
        else:
            count = resources.guarded(pv.store().delete, name)
            if count is not None:
                st.session_state.pop("practice", None)
                st.success(f"Deleted {count} answers of {name}.")

"""The knowledge-graph page under AppTest with the real mini-course store."""

from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, erica_env

PAGE = str(ROOT / "ui" / "pages" / "1_Knowledge_graph.py")


def _page(mini_store: Path, use_env, search: str) -> AppTest:
    use_env(erica_env(mini_store))
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.text_input[0].set_value(search).run()
    return at


def test_find_card_graph_and_path(mini_store: Path, use_env):
    at = _page(mini_store, use_env, "clip")
    assert not at.exception, at.exception
    assert at.selectbox[0].value.startswith("CLIP")
    assert at.subheader[0].value == "CLIP"
    assert any("joint embedding space" in md.value for md in at.markdown)
    dot = str(at.get("graphviz_chart")[0].proto)
    assert "contrastive-learning" in dot and "zero-shot-classification" in dot
    path = next(md.value for md in at.markdown if "→" in md.value)
    assert path.index("Vector") < path.index("Contrastive learning") < path.index("**CLIP**")


def test_semantic_fallback_when_no_name_matches(mini_store: Path, use_env):
    at = _page(mini_store, use_env, "expand the shallowest node first with a FIFO queue")
    assert not at.exception
    assert at.info and at.selectbox[0].value.startswith("Breadth-first search")
    assert all("(search)" in option for option in at.selectbox[0].options[:3])


def test_nonsense_finds_nothing_close(mini_store: Path, use_env):
    at = _page(mini_store, use_env, "zzzqqq")
    assert not at.exception
    assert any("Nothing in the course is close" in w.value for w in at.warning)
    assert not at.info and not at.selectbox


def test_needs_and_builds_on_are_listed_as_text(mini_store: Path, use_env):
    at = _page(mini_store, use_env, "clip")
    text = "\n".join(md.value for md in at.markdown)
    assert "**CLIP needs**" in text and "- Contrastive learning" in text
    assert "**What builds on CLIP**" in text and "- Zero-shot classification" in text
    path = next(md.value for md in at.markdown if "→" in md.value)
    steps = path.count("→") + 1
    assert any(f"{steps} steps, from the first prerequisite" in c.value for c in at.caption)

"""What a class sees, in a real headless Chromium against `erica ui` (issue 13): the chat page
before the model has loaded, the CLIP lab's similarity heatmap and relevance feedback, and
the knowledge graph page. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.conftest import ARTIFACTS, erica_ui

LOAD_MS = 600_000  # two shared cores: loading a model can take minutes under load
STEP_MS = 240_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True, timeout=STEP_MS)


def test_the_page_is_usable_before_the_model_loads(tmp_path_factory, mini_store: Path,
                                                   browser):
    """A fresh server: title, sidebar and chat box show at once, with what is loading."""
    log = tmp_path_factory.mktemp("fresh-ui") / "streamlit.log"
    with erica_ui(mini_store, log) as (url, _):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        notice = page.get_by_text(re.compile(r"Loading the (course|language model)"))
        notice.wait_for(timeout=STEP_MS)
        # while it still loads, the page is there: title, sidebar, welcome, chat box (each
        # drawn by a script the browser fetches first, so waited for)
        for part in (page.get_by_text("Erica - Your AI Tutor").first,
                     page.locator('[data-testid="stChatInputTextArea"]'),
                     page.get_by_text("Try one of these"),
                     page.get_by_text("Semantic search results")):
            part.wait_for(timeout=STEP_MS)
        loading_seen = notice.is_visible()
        _shot(page, "chat-loading.png")
        assert loading_seen, "the page said nothing about loading while it loaded"
        notice.wait_for(state="detached", timeout=LOAD_MS)
        page.get_by_text("prerequisite links").wait_for(timeout=STEP_MS)
        assert "Traceback" not in page.inner_text("body")
        _shot(page, "chat-ready.png")
        page.close()


def _clip_lab(page, url: str, tab: str) -> None:
    page.goto(f"{url}/CLIP_lab")
    page.get_by_role("tab", name=tab).wait_for(timeout=STEP_MS)
    page.get_by_role("tab", name=tab).click()


def test_similarity_heatmap_has_a_row_height_and_every_cell(running_app, browser):
    url, _ = running_app
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _clip_lab(page, url, "Similarity matrix")
    button = page.get_by_role("button", name="Compute the matrix")
    button.wait_for(timeout=STEP_MS)
    button.click()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(timeout=STEP_MS)
    cells = chart.locator("g.mark-rect.layer_0_marks path")
    cells.nth(24).wait_for(state="attached", timeout=STEP_MS)
    assert cells.count() == 25  # 5 images x 5 captions, one cell each
    plot = chart.locator("svg").first.bounding_box()
    assert plot["height"] >= 5 * 40, plot  # a real height per row, not one collapsed line
    axis_labels = chart.locator("g.role-axis-label text")
    assert axis_labels.count() == 10  # every caption and every image named, none hidden
    labels = chart.locator("g.mark-text.layer_2_marks text")
    assert labels.count() == 25
    heights = [labels.nth(i).bounding_box()["height"] for i in range(0, 25, 6)]
    assert min(heights) >= 10, heights  # numbers readable
    boxes = [labels.nth(i).bounding_box() for i in (0, 5)]  # same column, rows 1 and 2
    assert boxes[1]["y"] - boxes[0]["y"] >= 30, boxes  # rows do not overlap
    chart.scroll_into_view_if_needed()
    _shot(page, "clip-similarity.png")
    page.close()


def _ticked(page) -> int:
    return page.locator('[data-testid="stCheckbox"] input:checked').count()


def _no_ticks(page, after: str) -> None:
    """No 👍 stays ticked once the rerun settles (a surviving tick fails after a minute)."""
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stCheckbox"] input:checked'),
           f"ticks survived {after}").to_have_count(0, timeout=60_000)


def _rerun_done(page) -> None:
    page.wait_for_timeout(500)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=STEP_MS)


def test_feedback_ticks_are_cleared_and_said(running_app, browser):
    url, _ = running_app
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _clip_lab(page, url, "Search")
    box = page.get_by_label("Find images of…")
    box.wait_for(timeout=STEP_MS)
    box.fill("a horse")
    box.press("Enter")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("Query: 'a horse'").wait_for(timeout=STEP_MS)
    likes = page.locator('[data-testid="stCheckbox"]')

    def tick(i: int) -> None:
        likes.nth(i).locator("label").click()
        _rerun_done(page)

    tick(2)
    assert _ticked(page) == 1
    page.get_by_role("button", name="Bayes update").click()
    page.get_by_text("Feedback rounds: 1").wait_for(timeout=STEP_MS)
    _no_ticks(page, "the Bayes update")
    page.get_by_role("button", name="Bayes update").click()
    page.get_by_text("nothing was changed").wait_for(timeout=STEP_MS)
    assert page.get_by_text("Feedback rounds: 1").is_visible()
    tick(0)
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("Feedback rounds: 0").wait_for(timeout=STEP_MS)
    _no_ticks(page, "Reset")
    tick(1)
    page.get_by_role("button", name="More like this").first.click()
    page.get_by_text(re.compile(r"Query: 'images like .+\.(jpg|png)'")).wait_for(
        timeout=STEP_MS)
    _no_ticks(page, "More like this")
    _shot(page, "clip-feedback.png")
    page.close()


def test_knowledge_graph_page_lists_and_readable_labels(running_app, browser):
    url, _ = running_app
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/Knowledge_graph")
    box = page.get_by_label("Find a concept")
    box.wait_for(timeout=STEP_MS)
    box.fill("clip")
    box.press("Enter")
    page.get_by_text("CLIP needs").wait_for(timeout=STEP_MS)
    assert page.get_by_text("What builds on CLIP").is_visible()
    assert page.locator("li", has_text="Contrastive learning").count() >= 1
    graph = page.locator('[data-testid="stGraphVizChart"] svg')
    graph.wait_for(timeout=STEP_MS)
    # the drawn size of a label's font: its font size times the scale the SVG is drawn at
    font_px = graph.evaluate("""svg => {
        const text = svg.querySelector('g.node text');
        const size = parseFloat(text.getAttribute('font-size'));
        const m = text.getScreenCTM();
        return size * Math.hypot(m.a, m.b);
    }""")
    assert font_px >= 12, f"node labels are {font_px:.1f} px high"  # readable, not 7 px
    path = page.get_by_text(re.compile(r"\d+ steps, from the first prerequisite to CLIP"))
    assert path.is_visible()
    _shot(page, "graph-clip.png")
    box.fill("zzzqqq")
    box.press("Enter")
    page.get_by_text("Nothing in the course is close to").wait_for(timeout=STEP_MS)
    assert page.get_by_text("The closest by meaning").count() == 0
    _shot(page, "graph-nonsense.png")
    page.close()


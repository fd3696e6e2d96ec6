"""Checking a student's question before any model sees it."""

from __future__ import annotations

import re
import unicodedata

from knowledge.common.errors import InvalidInputError

MAX_QUESTION_CHARS = 2000
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|why|ok|okay)\b"
    r"|\b(it|its|it's|they|them|their|this|that|these|those|he|she|one)\b",
    re.IGNORECASE,
)


def clean_question(text: str | None) -> str:
    """The question, stripped; InvalidInputError if it is empty, too long or not text."""
    if text is None or not text.strip():
        raise InvalidInputError("the question is empty", "type a question about the course")
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInputError(
            f"the question is {len(text):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}",
            "ask a shorter question, or paste only the part you need help with",
        )
    control = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")
                  and ch not in "\n\t\r")
    if control > max(2, len(text) // 20):
        raise InvalidInputError(
            "the question looks like binary data, not text",
            "type the question as plain text",
        )
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def looks_like_follow_up(question: str) -> bool:
    """True for questions that lean on the previous turn ("and how is it trained?").

    A short question that names its topic ("What is CLIP?") is not a follow-up: only
    pronouns and leading connectives count.
    """
    return bool(_FOLLOW_UP.search(question))

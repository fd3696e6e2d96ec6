"""Practice: short questions built from the concept cards (issue 19)."""

from tutor.practice.questions import (
    KINDS,
    AnswerOutOfRangeError,
    Question,
    course_from_cards,
    questions_for,
)

__all__ = ["KINDS", "AnswerOutOfRangeError", "Question", "course_from_cards", "questions_for"]

"""A chat's short memory: the recent turns used to understand follow-up questions."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Conversation:
    """Recent (question, answer) turns of one chat; ``max_turns`` are kept."""

    max_turns: int = 3
    turns: list[tuple[str, str]] = field(default_factory=list)

    def add(self, question: str, answer: str) -> None:
        self.turns.append((question, answer))
        del self.turns[:-self.max_turns]

    def clear(self) -> None:
        self.turns.clear()

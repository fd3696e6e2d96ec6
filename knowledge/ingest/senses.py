"""Word sense: is a name found in a passage really that concept?

Matching names and aliases finds "model" in "the model of the problem", "IDs" in "student
IDs", "CV" in "a project in CV, I mean computer vision". Three rules decide, each one
switchable so ``erica bench ingest`` can measure what it does:

- **case**: an acronym alias matches only as the acronym is written ("IDS", not "IDs";
  "MAC", not "Mac"; "mAP", not "map").
- **context**: a *risky* form (one word, an acronym, or a name without its qualifier, like
  "Model" of *Model (logic)*) counts only when the passage is about the card: the cosine of
  the passage's embedding and the card's (name and summary) is at least ``RISKY_MIN``.
- **unit**: a risky form just under that bar (``SUPPORTED_MIN``) still counts when a safe
  mention in the same passage belongs to the same course unit (the lecture's neighbours agree).

A concept found in the material itself (new now, or ingested before) has no card of the
course to compare with; its risky forms ("Data") count only in the file that introduced it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.ingest.discovery import Mention

RISKY_MIN = 0.33
SUPPORTED_MIN = 0.10


@dataclass(frozen=True)
class SenseRules:
    case: bool = True
    context: bool = True
    unit: bool = True
    risky_min: float = RISKY_MIN
    supported_min: float = SUPPORTED_MIN


@dataclass
class SenseCheck:
    """Filters the mentions of each passage; counts what each rule removed."""

    passage_vectors: np.ndarray  # row i: passage i, unit length
    concept_vectors: Callable[[Sequence[str]], Mapping[str, np.ndarray]]
    unit_of: Mapping[str, str]
    rules: SenseRules = field(default_factory=SenseRules)
    home: Mapping[str, str] = field(default_factory=dict)  # material's concept -> its file
    sources: Sequence[str] = ()  # passage i -> its file
    stats: Counter = field(default_factory=Counter)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # card of a risky mention

    def prepare(self, spans: Sequence[Sequence[Mention]]) -> None:
        """Embed the cards of every risky mention once."""
        wanted = sorted({m.concept for row in spans for m in row
                         if m.risky and m.concept not in self.home})
        self.vectors = dict(self.concept_vectors(wanted)) if wanted and self.rules.context \
            else {}

    def keep(self, passage: int, spans: Sequence[Mention], count: bool = True) -> Counter:
        rules = self.rules
        out: Counter = Counter()
        safe_units = {self.unit_of.get(m.concept) for m in spans if not m.risky}
        for m in spans:
            reason = self._reject(passage, m, safe_units)
            if count:
                self.stats["mentions"] += 1
                self.stats[f"dropped_{reason}" if reason else "kept"] += 1
            if reason is None or (reason == "case" and not rules.case):
                out[m.concept] += 1
        return out

    def _reject(self, passage: int, m: Mention, safe_units: set) -> str | None:
        rules = self.rules
        if not m.case_ok and rules.case:
            return "case"
        if not m.risky or not rules.context:
            return None
        if m.concept in self.home:
            same = passage < len(self.sources) and self.sources[passage] == self.home[m.concept]
            return None if same else "context"
        vec = self.vectors.get(m.concept)
        if vec is None or passage >= len(self.passage_vectors):
            return None
        sim = float(self.passage_vectors[passage] @ vec)
        if sim >= rules.risky_min:
            return None
        if rules.unit and sim >= rules.supported_min and \
                self.unit_of.get(m.concept) in safe_units:
            return None
        return "context"


def unit_length(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm == 0, 1.0, norm)

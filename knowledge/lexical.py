"""Concept names and aliases that a question spells out ("bfs vs dfs", "what is a KL divergence").

Sentence embeddings blur short acronyms and exact terms; a question that names a concept
should find it. Labels are normalised (lower case, punctuation to spaces) and looked up as
word n-grams of the question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from knowledge.cards import Concept

MAX_NGRAM = 6
MIN_LABEL_CHARS = 3  # "a", "ai" would match everywhere
_NON_WORD = re.compile(r"[^a-z0-9а-я]+")


def normalise(text: str) -> str:
    """Lower case, diacritics dropped (ё -> е, й -> и, č -> c: a Czech alias matches typed
    without them), Latin and Cyrillic letters and digits kept, the rest to spaces."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", text.lower())
                     if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", folded).strip()


_PARENTHESISED = re.compile(r"^(?P<base>[^()]+?)\s*\((?P<inner>[^()]+)\)\s*$")


def name_labels(name: str) -> list[str]:
    """A name and what a student would type of it: "CLIP (Contrastive Language-Image
    Pre-training)" is also "CLIP" and "Contrastive Language-Image Pre-training"; a
    parenthesis with commas is a description ("(frames, shots and keyframes)"), not a name."""
    labels = [name]
    parts = _PARENTHESISED.match(name)
    if parts:
        labels.append(parts["base"])
        if "," not in parts["inner"]:
            labels.append(parts["inner"])
    return labels


class LabelIndex:
    """Maps normalised names and aliases to concept ids."""

    def __init__(self, cards: Iterable[Concept]) -> None:
        self._labels: dict[str, set[str]] = {}
        for card in cards:
            for label in (*name_labels(card.name), *card.aliases):
                key = normalise(label)
                if len(key) >= MIN_LABEL_CHARS:
                    self._labels.setdefault(key, set()).add(card.id)

    def mentioned(self, question: str) -> dict[str, int]:
        """Concept ids named in the question, with the length (in words) of the longest match."""
        words = normalise(question).split()
        found: dict[str, int] = {}
        for n in range(min(MAX_NGRAM, len(words)), 0, -1):
            for start in range(len(words) - n + 1):
                for cid in self._labels.get(" ".join(words[start:start + n]), ()):
                    found[cid] = max(found.get(cid, 0), n)
        return found

"""Building the concept store from cards: validate, embed, write atomically."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.cards import Concept, load_cards
from knowledge.common.errors import CardError
from knowledge.course import CONCEPTS, card_metadata
from knowledge.embeddings import Embedder, model_fingerprint
from knowledge.store import BuildInfo, Record, VersionedCollection, verify_collection
from knowledge.validate import validate

log = logging.getLogger(__name__)
Progress = Callable[[int], None]


@dataclass(frozen=True)
class BuildResult:
    info: BuildInfo
    changed: bool  # False: the store already held exactly these cards


# Bump when what is embedded changes (text fields, truncation), so stores are rebuilt.
EMBEDDING_RECIPE = "card-text-v1/max128"


def content_hash(cards: Sequence[Concept], embedding_model: str) -> str:
    """Hash of everything that determines the store: the cards, the model, the recipe."""
    digest = hashlib.sha256(f"{model_fingerprint(embedding_model)}|{EMBEDDING_RECIPE}".encode())
    for card in sorted(cards, key=lambda c: c.id):
        digest.update(json.dumps(card.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()


def load_valid_cards(course_dirs: Sequence[Path]) -> list[Concept]:
    """Cards of all course folders; CardError listing every problem if they are not valid."""
    cards = load_cards(course_dirs)
    if not cards:
        raise CardError(f"no concept cards found in {', '.join(map(str, course_dirs))}",
                        "point ERICA_COURSE_DIRS at folders of *.yaml card files")
    problems = validate(cards)
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise CardError(f"{len(problems)} problem(s) in the course:\n{shown}{more}",
                        "fix the cards, then run `erica kb validate`")
    return cards


def build_concepts(cards: Sequence[Concept], embedding_model: str,
                   get_embedder: Callable[[], Embedder], concepts: VersionedCollection,
                   force: bool = False, progress: Progress | None = None) -> BuildResult:
    """Embed and store ``cards``; a no-op when the active build has the same content hash.

    The embedder is only loaded (``get_embedder()``) when something must be embedded.
    """
    digest = content_hash(cards, embedding_model)
    current = concepts.info()
    if current and current.content_hash == digest and not force:
        try:
            verify_collection(concepts.collection(), expected=len(cards))
            log.info("store already up to date (%s)", digest[:12])
            return BuildResult(current, changed=False)
        except Exception:
            log.warning("store content matches but fails verification: rebuilding")
    texts = [c.embedding_text() for c in cards]
    embedder = get_embedder()
    vectors = embedder.encode(texts, progress=progress)
    # No document: the card is in the metadata, its embedded text follows from it.
    records = [Record(c.id, v, None, card_metadata(c))
               for c, v in zip(cards, vectors, strict=True)]
    info = concepts.build(records, digest, embedder.name)
    return BuildResult(info, changed=True)


__all__ = ["BuildResult", "CONCEPTS", "build_concepts", "content_hash", "load_valid_cards"]

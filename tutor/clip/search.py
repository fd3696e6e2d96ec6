"""Text -> image and image -> image search over an image set, and feedback sessions.

Scores are cosine similarities (Chroma stores cosine distance ``1 - cos``). A
:class:`FeedbackSession` keeps the top candidates of a query with their vectors and re-ranks
them with the Bayesian update of :mod:`tutor.clip.feedback` each time the user likes results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.common.errors import InvalidInputError, StoreError
from tutor.clip import feedback
from tutor.clip import images as imgs
from tutor.clip.index import require_set
from tutor.clip.models import ClipModel
from tutor.clip.nearest import nearest

log = logging.getLogger(__name__)

MAX_K = 500
MAX_QUERY_CHARS = 500


@dataclass
class Hit:
    """One search result."""

    id: str
    path: str
    score: float  # cosine similarity to the query (or the feedback score, see FeedbackSession)
    rank: int
    caption: str = ""
    timestamp: float | None = None  # seconds into the video, for frames
    video: str = ""
    kind: str = "image"
    embedding: np.ndarray | None = field(default=None, repr=False)
    cosine: float | None = None  # the cosine to the query (also when score is a feedback score)

    @property
    def exists(self) -> bool:
        return bool(self.path) and Path(self.path).is_file()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rank": self.rank, "path": self.path,
                               "score": round(float(self.score), 4)}
        if self.caption:
            out["caption"] = self.caption
        if self.timestamp is not None:
            out["timestamp"] = round(float(self.timestamp), 2)
            out["video"] = self.video
        return out

    @property
    def title(self) -> str:
        name = Path(self.path).name
        if self.timestamp is not None:
            return f"{Path(self.video).name} @ {format_timestamp(self.timestamp)}"
        return name


def format_timestamp(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:d}:{minutes:02d}:{sec:04.1f}" if hours else f"{minutes:d}:{sec:04.1f}"


def _check_k(k: int) -> int:
    if not 1 <= int(k) <= MAX_K:
        raise InvalidInputError(f"k={k} results is outside 1..{MAX_K}", "ask for fewer results")
    return int(k)


def check_query(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInputError("the search text is empty", 'type what to find, e.g. "red circles"')
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError(f"the search text has {len(text)} characters",
                                f"keep it under {MAX_QUERY_CHARS} (CLIP reads only ~20-70 tokens)")
    return text


class Hits(list):
    """Search results (:class:`Hit`), best first. ``gone`` holds the paths of indexed files
    that were deleted after indexing: they are left out of the results, and the caller says
    so (:func:`gone_message`)."""

    def __init__(self, hits: list[Hit] | None = None, gone: list[str] | None = None) -> None:
        super().__init__(hits or [])
        self.gone = list(gone or [])


def gone_message(set_name: str, gone: list[str]) -> str:
    """What to tell the user about results whose files were deleted after indexing."""
    names = ", ".join(Path(p).name for p in gone[:3]) + (", ..." if len(gone) > 3 else "")
    return (f"{len(gone)} image(s) of set {set_name!r} were deleted after it was indexed "
            f"({names}) and are left out of the results. Re-index the set "
            f"(`erica clip index FOLDER --set {set_name}`, or \"Remove deleted images\" in "
            "the CLIP lab) so that searches see only the images that exist.")


def _hit(i: int, id_: str, meta: dict | None, dist: float, embedding: Any) -> Hit:
    meta = meta or {}
    return Hit(id=id_, path=str(meta.get("path", "")), score=1.0 - float(dist), rank=i + 1,
               caption=str(meta.get("caption", "")),
               timestamp=float(meta["timestamp"]) if "timestamp" in meta else None,
               video=str(meta.get("video", "")), kind=str(meta.get("kind", "image")),
               embedding=None if embedding is None else np.asarray(embedding, np.float32),
               cosine=1.0 - float(dist))


def query_vector(collection: Any, vector: np.ndarray, k: int, *,
                 with_embeddings: bool = False) -> Hits:
    """The ``k`` nearest stored images to a unit ``vector`` whose files still exist (those
    deleted since indexing are listed in ``Hits.gone``)."""
    k = _check_k(k)
    total = collection.count()
    asked = min(k, total)
    while True:
        if asked == 0:
            return Hits()
        include = ["metadatas"] + (["embeddings"] if with_embeddings else [])
        try:
            ranked = nearest(collection, vector, asked)
            got = collection.get(ids=[id_ for id_, _ in ranked], include=include)
        except Exception as exc:  # chromadb: InvalidDimension, InternalError...
            raise StoreError(f"searching the image set failed ({type(exc).__name__}: {exc})",
                             "re-index the set (`erica clip index PATH --set NAME`)") from exc
        rows = {id_: i for i, id_ in enumerate(got["ids"])}
        found = []
        for rank, (id_, dist) in enumerate(ranked):
            row = rows[id_]
            vec = got["embeddings"][row] if with_embeddings else None
            found.append(_hit(rank, id_, got["metadatas"][row], dist, vec))
        kept = [h for h in found if h.exists]
        gone = [h.path for h in found if not h.exists]
        if len(kept) >= k or asked >= total:
            break
        asked = min(total, asked + 2 * len(gone) + k)  # look further for existing files
    for rank, hit in enumerate(kept[:k], start=1):
        hit.rank = rank
    if gone:
        log.warning("%d indexed image(s) no longer exist, e.g. %s", len(gone), gone[0])
    return Hits(kept[:k], gone)


def search_text(settings: Any, model: ClipModel, set_name: str, text: str, k: int = 12, *,
                with_embeddings: bool = False) -> list[Hit]:
    """Images of the set ranked by cosine similarity to ``text``."""
    text = check_query(text)
    collection = require_set(settings, model, set_name)
    vector = model.embed_texts([text])[0]
    return query_vector(collection, vector, k, with_embeddings=with_embeddings)


def image_vector(model: ClipModel, image: Any) -> np.ndarray:
    """A PIL image, a path or raw bytes -> unit vector (decoded safely)."""
    if isinstance(image, bytes | bytearray):
        image = imgs.decode_bytes(bytes(image)).image
    elif isinstance(image, str | Path):
        image = imgs.decode_file(Path(image)).image
    return model.embed_images([image])[0]


def search_image(settings: Any, model: ClipModel, set_name: str, image: Any, k: int = 12, *,
                 with_embeddings: bool = False) -> list[Hit]:
    """Images of the set ranked by cosine similarity to ``image`` (PIL, path or bytes)."""
    collection = require_set(settings, model, set_name)
    vector = image_vector(model, image)
    return query_vector(collection, vector, k, with_embeddings=with_embeddings)


class FeedbackSession:
    """Relevance feedback over the ``pool`` best candidates of one query.

    ``shown()`` returns the current top results; ``like(ids)`` applies one Bayes update
    (liked = ``ids``; the other displayed results are the negatives); ``reset()`` goes back
    to the query's own ranking.
    """

    def __init__(self, settings: Any, model: ClipModel, set_name: str, *, text: str = "",
                 image: Any = None, pool: int = 200, display: int = 12,
                 sigma: float = feedback.SIGMA, label: str = "") -> None:
        collection = require_set(settings, model, set_name)
        if text:
            self.query = model.embed_texts([check_query(text)])[0]
        elif image is not None:
            self.query = image_vector(model, image)
        else:
            raise InvalidInputError("there is nothing to search for",
                                    'type what to find (e.g. "red circles"), or upload an '
                                    "image to find similar ones")
        self.text = text
        self.set_name = set_name
        self.label = label or text or "an image"  # what the query is, in words
        self.display = display
        self.sigma = sigma
        self.candidates = query_vector(collection, self.query, pool, with_embeddings=True)
        self.gone = self.candidates.gone  # indexed files deleted since: left out
        if not self.candidates and self.gone:
            raise InvalidInputError(f"the images of set {set_name!r} that match were deleted "
                                    "after it was indexed", gone_message(set_name, self.gone))
        if not self.candidates:
            raise InvalidInputError(f"image set {set_name!r} is empty",
                                    f"index images first: `erica clip index PATH --set {set_name}`")
        self.vectors = np.stack([h.embedding for h in self.candidates])
        self.rounds = 0
        self.reset()

    def reset(self) -> None:
        self.scores = feedback.initial_scores(self.vectors, self.query, self.sigma)
        self.rounds = 0
        self.liked: set[str] = set()

    def _index(self) -> dict[str, int]:
        return {h.id: i for i, h in enumerate(self.candidates)}

    def shown(self, k: int | None = None) -> list[Hit]:
        k = k or self.display
        out = []
        for rank, i in enumerate(feedback.rank(self.scores, k), start=1):
            h = self.candidates[int(i)]
            out.append(Hit(h.id, h.path, float(self.scores[int(i)]), rank, h.caption,
                           h.timestamp, h.video, h.kind, cosine=h.cosine))
        return out

    def like(self, liked_ids: list[str], shown_ids: list[str] | None = None) -> list[Hit]:
        """One round: ``liked_ids`` among the displayed ``shown_ids`` (default: the current
        top ``display``). Returns the new top results."""
        index = self._index()
        shown_ids = shown_ids if shown_ids is not None else [h.id for h in self.shown()]
        unknown = [i for i in liked_ids if i not in index]
        if unknown:
            raise InvalidInputError("a liked result is not among the candidates",
                                    "like results of the current list, or reset")
        liked = [index[i] for i in liked_ids]
        shown = [index[i] for i in shown_ids if i in index]
        self.scores = feedback.bayes_update(self.scores, self.vectors, liked, shown,
                                            self.sigma)
        self.rounds += 1
        self.liked.update(liked_ids)
        return self.shown()

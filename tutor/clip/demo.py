"""CLIP demonstrations inside the chat: ``/images TEXT``, ``/labels a, b, c`` and requests
such as "show me how CLIP finds pictures of a horse".

:func:`chat_demo` returns a :class:`ClipDemoResult` for the chat page to render beside the
tutor's explanation, or None when the message is not a CLIP demo request (the chat then
answers it as a question). Failures raise :class:`~knowledge.common.errors.EricaError` subclasses
(cause + fix), like every library call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.common.errors import InvalidInputError

DEMO_K = 6
THUMBNAIL_SIDE = 256  # the labelled image as the chat shows it
SEARCH_CONCEPTS = ("clip", "text-to-image-search", "joint-embedding-space",
                   "vector-similarity-search", "bayesian-relevance-feedback")
LABEL_CONCEPTS = ("zero-shot-classification", "prompt-templates-for-clip", "prompt-ensembling",
                  "temperature-scaling")

# "show me how CLIP finds pictures of a horse", "can clip find images of red circles?",
# "demonstrate CLIP searching for photos of a cat"
_NATURAL_SEARCH = re.compile(
    r"\b(?:show|demo(?:nstrate)?|how|can|let'?s see|see)\b.*?\bclip\b.*?"
    r"\b(?:find|finds|finding|search|searches|searching|retrieve|retrieves|look(?:s|ing)? for)"
    r"\b.*?\b(?:pictures?|images?|photos?|frames?)\s+(?:of|with|showing)\s+(?P<query>.+?)"
    r"\s*[?.!]*$",
    re.IGNORECASE)
_NATURAL_LABELS = re.compile(
    r"\b(?:is this|classify this(?: image| picture| photo)?(?: as)?|"
    r"what does clip think this (?:image|picture|photo) is[:,]?)\s+(?P<labels>.+?)\s*[?.!]*$",
    re.IGNORECASE)
_SLASH = re.compile(r"^\s*/(?P<cmd>images|image|labels|label)\b\s*(?P<rest>.*)$",
                    re.IGNORECASE | re.DOTALL)


@dataclass
class ClipDemoItem:
    """One row of a demo: an image with its score, or a label with its probability."""

    label: str  # file name (search) or the label (labels)
    score: float  # cosine similarity (search) or softmax probability (labels)
    image_path: str = ""  # the image to show (search results)
    caption: str = ""  # the demo image's own caption, when known
    timestamp: float | None = None  # seconds, for video frames


@dataclass
class ClipDemoResult:
    """What the chat page renders for a CLIP demo.

    Fields:
        kind: ``"search"`` (text -> image search over the demo set) or ``"labels"``
            (zero-shot labels of the uploaded image).
        query: the search text, or the labels as typed.
        results: :class:`ClipDemoItem` rows, best first (search: ``image_path`` + cosine
            ``score``; labels: ``label`` + probability ``score``, summing to 1).
        model: the active model's label (always shown to the user).
        image_set: the image set searched (``"demo"``), empty for labels.
        score_kind: ``"cosine"`` or ``"probability"``: how to caption the numbers.
        explanation: one or two sentences on what CLIP did, for the tutor's answer.
        concept_ids: ids of the shipped course's concept cards this demo illustrates
            (``knowledge/courses/intro_ai/multimodal_clip.yaml``), for links beside it.
        concept_query: text for looking up further cards (embed it like a question), e.g.
            "CLIP text image search cosine similarity".
        notes: warnings to show (too many labels, a single label...).
        image: the labelled image (a PIL thumbnail), shown beside its labels.
    """

    kind: str
    query: str
    results: list[ClipDemoItem]
    model: str
    image_set: str = ""
    score_kind: str = "cosine"
    explanation: str = ""
    concept_ids: list[str] = field(default_factory=list)
    concept_query: str = ""
    notes: list[str] = field(default_factory=list)
    image: Any = None


def parse_request(command: str) -> tuple[str, str] | None:
    """(kind, argument) for a CLIP demo request, or None. Pure; no model needed."""
    text = (command or "").strip()
    if not text:
        return None
    slash = _SLASH.match(text)
    if slash:
        cmd = slash.group("cmd").lower()
        return ("search" if cmd.startswith("image") else "labels"), slash.group("rest").strip()
    natural = _NATURAL_SEARCH.search(text)
    if natural:
        return "search", natural.group("query").strip().strip("\"'")
    return None


def parse_label_request(command: str) -> str | None:
    """Labels from "classify this image as a, b or c" style messages (with an image)."""
    m = _NATURAL_LABELS.search((command or "").strip())
    if not m:
        return None
    labels = re.sub(r"\s+or\s+", ", ", m.group("labels"), flags=re.IGNORECASE)
    return labels if "," in labels else None


def chat_demo(command: str, settings: Any, image_bytes: bytes | None = None
              ) -> ClipDemoResult | None:
    """Run the CLIP demo a chat message asks for, or return None if it asks for none."""
    parsed = parse_request(command)
    if parsed is None and image_bytes is not None:
        labels = parse_label_request(command)
        parsed = ("labels", labels) if labels else None
    if parsed is None:
        return None
    kind, argument = parsed
    from tutor.clip.models import load_model

    model = load_model(settings)
    if kind == "search":
        return _search(settings, model, argument)
    return _labels(settings, model, argument, image_bytes)


def _search(settings: Any, model: Any, text: str) -> ClipDemoResult:
    from tutor.clip.search import gone_message, search_text
    from tutor.clip.sets import DEMO_SET

    if not text:
        raise InvalidInputError("/images needs something to look for",
                                "type e.g. `/images red circles` or `/images a horse`")
    hits = search_text(settings, model, DEMO_SET, text, k=DEMO_K)
    rows = [ClipDemoItem(h.title, h.score, h.path, h.caption, h.timestamp) for h in hits]
    best = rows[0] if rows else None
    explanation = (
        f"CLIP turned the text \"{text}\" into a vector and compared it with the vectors of "
        f"the {DEMO_SET} images by cosine similarity; the highest cosines come first"
        + (f" (best: {best.score:.3f})." if best else "."))
    notes = [gone_message(DEMO_SET, hits.gone)] if hits.gone else []
    return ClipDemoResult("search", text, rows, model.label, DEMO_SET, "cosine", explanation,
                          list(SEARCH_CONCEPTS),
                          "CLIP joint embedding text image search cosine similarity", notes)


def _labels(settings: Any, model: Any, labels: str, image_bytes: bytes | None
            ) -> ClipDemoResult:
    from tutor.clip.images import decode_bytes
    from tutor.clip.zeroshot import label_image

    if image_bytes is None:
        raise InvalidInputError("/labels needs an image",
                                "attach an image to the message, then type "
                                "`/labels cat, dog, car`")
    image = decode_bytes(image_bytes, "the uploaded image",
                         max_mb=getattr(settings, "upload_max_mb", 20)).image
    result = label_image(model, image, labels)
    shown = image.copy()
    shown.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    rows = [ClipDemoItem(label, prob) for label, prob in result.labels]
    explanation = (
        f"Each label became {result.templates} prompt(s) from the '{result.template_set}' "
        "templates (e.g. \"a photo of a {label}\"); CLIP compared the image with each label's "
        "averaged text vector and a softmax turned the scaled cosines into probabilities.")
    return ClipDemoResult("labels", labels, rows, model.label, "", "probability", explanation,
                          list(LABEL_CONCEPTS),
                          "CLIP zero-shot classification prompt templates softmax",
                          list(result.notes), shown)

"""Evidence a teacher recognises for "learn B before A", and a calibrated confidence.

The co-occurrence model of :mod:`prerequisites` ranks pairs of concepts that appear near
each other; on real lecture material most of those pairs are not prerequisites. This module
adds what a teacher would point to, and turns it into a probability fitted on labelled
material (``knowledge/eval/ingest/``, tuning split):

- **course graph**: the shipped course already has B among A's ancestors (``graph``), or has
  A among B's (``reversed``: never suggested);
- **cue**: a sentence says so ("recall that B", "A builds on B", "before diving into A ...
  B", "navážeme na", "строится на"): ``cue``;
- **uses**: "A uses B", "B is part of A" say B is a component, not a claim about order; the
  link A -> B is refused;
- **known pair off the graph**: both concepts are in the course and its curated graph does
  not relate them: the material alone must carry the link (``off_graph``).

An explicit claim between two course concepts that the graph does not have (the tutor
answer's "RNNs" before CLIP) is *flagged* for review and not suggested.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np

from knowledge.common.logistic import fit_logistic
from knowledge.ingest.passages import Passage, split_sentences
from knowledge.ingest.prerequisites import Link

_PREREQ_CUE = re.compile(
    r"\brecall(?:s)?\s+that\b|\bbuilds?\s+on\b|\bbuilt\s+on\b|\bbased\s+on\b|"
    r"\brequires?\b|\bassumes?\b|\bextends?\b|\bgenerali[sz]es?\b|\bprerequisites?\b|"
    r"\bbefore\s+(?:diving|learning|studying)\b|\bessential\s+to\s+understand|"
    r"\bapplies\s+the\s+idea\b|"
    r"navážeme|navazuje|navazovat|staví\s+na|stavíme\s+na|vychází\s+z|předpoklad|"
    r"опира|строится\s+на|основан|напомн|требует|расширя|предварительн",
    re.IGNORECASE)
_USES_CUE = re.compile(
    r"\buses?\b|\busing\b|\bis\s+part\s+of\b|\bconsists?\s+of\b|\bcontains?\b|"
    r"\bcomposed\s+of\b|používá|složen|использует|состоит\s+из", re.IGNORECASE)
_CLAIM_CUE = re.compile(
    r"\bprerequisites?\b|\bbefore\s+diving\s+into\b|\bessential\s+to\s+understand\b|"
    r"\bneed\s+to\s+know\b|\byou\s+should\s+know\b|předpoklady|необходимо\s+знать|"
    r"предварительные", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s+")

FEATURES = ("base", "graph", "off_graph", "cue", "new_end", "defines")
# fitted by `erica bench ingest --calibrate` on the tuning split of knowledge/eval/ingest
WEIGHTS: dict[str, float] = {
    "base": 0.069, "graph": 2.981, "off_graph": -2.333, "cue": 0.126, "new_end": -0.102,
    "defines": 1.149, "bias": 0.546,
}
SHOW_THRESHOLD = 0.5  # links at or above are shown as suggestions; lower ones are listed apart
KEEP_THRESHOLD = 0.1  # links below are dropped; 0.1-0.5 are listed apart as weak


@dataclass
class CourseGraph:
    """The curated prerequisite graph of the configured course."""

    graph: nx.DiGraph
    _anc: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]]) -> CourseGraph:
        g = nx.DiGraph()
        g.add_edges_from(edges)
        return cls(g)

    def ancestors(self, cid: str) -> set[str]:
        if cid not in self._anc:
            self._anc[cid] = nx.ancestors(self.graph, cid) if cid in self.graph else set()
        return self._anc[cid]

    def path(self, b: str, a: str) -> list[str]:
        try:
            return nx.shortest_path(self.graph, b, a)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return []


@dataclass
class Claims:
    """What sentences of the material say about pairs of concepts."""

    cue: dict[tuple[str, str], str] = field(default_factory=dict)  # (b, a) -> the sentence
    uses: dict[tuple[str, str], str] = field(default_factory=dict)  # (whole, part) -> sentence
    listed: dict[tuple[str, str], str] = field(default_factory=dict)  # "prerequisites" lists


def find_claims(passages: Sequence[Passage], owners: Sequence[Iterable[str]],
                mentions_of: Callable[[int, str], list[str]]) -> Claims:
    """Cue and "uses" sentences, and prerequisite lists, of every passage.

    ``owners[i]``: the concepts passage ``i`` is about (its section); ``mentions_of(i, text)``:
    the concepts named in ``text`` (in order, senses checked) as passage ``i``'s context.
    """
    claims = Claims()
    for i, p in enumerate(passages):
        own = sorted(owners[i])
        sentences = split_sentences(p.text)
        for k, sentence in enumerate(sentences):
            named = mentions_of(i, sentence)
            if _CLAIM_CUE.search(sentence):
                targets = named or own
                rest = [s for s in sentences[k + 1:] if _LIST_ITEM.match(s)]
                if not rest and k == len(sentences) - 1 and i + 1 < len(passages) \
                        and passages[i + 1].source == p.source:  # the list follows
                    rest = [line for line in passages[i + 1].text.split("\n")
                            if _LIST_ITEM.match(line)]
                listed = {c for s in rest for c in mentions_of(i, _item_head(s))}
                if len(targets) == 1:
                    for b in listed - {targets[0]}:
                        claims.listed[(b, targets[0])] = sentence[:200]
            cue = _PREREQ_CUE.search(sentence)
            if cue:
                before = mentions_of(i, sentence[:cue.start()]) or own
                after = mentions_of(i, sentence[cue.end():])
                for a in before[:1]:
                    for b in after:
                        if a != b:
                            claims.cue.setdefault((b, a), sentence[:200])
            use = _USES_CUE.search(sentence)
            if use:
                whole = mentions_of(i, sentence[:use.start()])[-1:] or own[:1]
                for a in whole:
                    for b in mentions_of(i, sentence[use.end():]):
                        if a != b:
                            claims.uses.setdefault((a, b), sentence[:200])
    return claims


def _item_head(item: str) -> str:
    """The named part of a list item: ``3. **RNNs:** a type of ...`` -> ``RNNs``."""
    item = _LIST_ITEM.sub("", item).replace("**", "")
    head = item.split(":", 1)[0] if ":" in item[:80] else " ".join(item.split()[:6])
    return head


def features(link: Link, graph: CourseGraph, claims: Claims, known: set[str],
             defined_with: set[tuple[str, str]]) -> dict[str, float]:
    b, a = link.edge
    both_known = a in known and b in known
    in_graph = both_known and b in graph.ancestors(a)
    conf = min(max(link.confidence, 1e-4), 1 - 1e-4)
    return {
        "base": math.log(conf / (1 - conf)) / 4.0,
        "graph": 1.0 if in_graph else 0.0,
        "off_graph": 1.0 if both_known and not in_graph else 0.0,
        "cue": 1.0 if (b, a) in claims.cue or (b, a) in claims.listed else 0.0,
        "new_end": 0.0 if both_known else 1.0,
        "defines": 1.0 if (b, a) in defined_with else 0.0,
    }


def calibrated(x: Mapping[str, float], weights: Mapping[str, float] = WEIGHTS) -> float:
    z = weights["bias"] + sum(weights[f] * x[f] for f in FEATURES)
    return 1.0 / (1.0 + math.exp(-z))


@dataclass
class Judged:
    """The links to suggest (calibrated), and the claims to flag for review."""

    links: list[Link]
    flags: list[dict]


def judge(scored: Sequence[Link], graph: CourseGraph, claims: Claims, known: set[str],
          defined_with: set[tuple[str, str]],
          weights: Mapping[str, float] = WEIGHTS) -> Judged:
    """Calibrated confidence for every scored pair; flags for claims against the graph.

    Pairs the graph orders the other way, pairs a "uses" sentence contradicts and explicit
    claims between course concepts that the graph lacks never become suggestions.
    """
    flags: list[dict] = []
    flagged: set[tuple[str, str]] = set()
    for (b, a), sentence in sorted({**claims.cue, **claims.listed}.items()):
        if a in known and b in known and b not in graph.ancestors(a):
            why = "the course graph has it the other way" if a in graph.ancestors(b) else \
                "the course graph does not have this link"
            flags.append({"prerequisite": b, "concept": a, "claim": sentence, "why": why})
            flagged.add((b, a))
    out: list[Link] = []
    for link in scored:
        b, a = link.edge
        if (b, a) in flagged or (a in known and b in known and a in graph.ancestors(b)):
            continue
        if (b, a) in claims.uses and (b, a) not in claims.cue:
            continue  # "B uses A" / "A is part of B": A is a part of B, not after it
        x = features(link, graph, claims, known, defined_with)
        named = link.evidence.get("mentions", [0])[0] or \
            link.evidence.get("mentioned_back", [0])[0]
        if not (named or x["graph"] or x["cue"]):
            continue  # only introduced one after the other: no evidence a teacher would see
        conf = round(calibrated(x, weights), 4)
        evidence = {**link.evidence, "model": link.confidence,
                    "features": {k: round(v, 3) for k, v in x.items()}}
        if x["graph"]:
            evidence["graph_path"] = graph.path(b, a)
        sentence = claims.cue.get((b, a)) or claims.listed.get((b, a))
        if sentence:
            evidence["says"] = sentence
        if (a, b) in claims.uses:
            evidence["uses"] = claims.uses[(a, b)]
        out.append(replace(link, confidence=conf, evidence=evidence))
    return Judged(out, flags)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> dict[str, float]:
    """Logistic regression of labels (1: correct) on :data:`FEATURES` (Newton steps, L2)."""
    return fit_logistic(x, y, FEATURES, l2, steps)

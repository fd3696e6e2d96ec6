"""Concept candidates found in the material, and merging them into known concepts.

Candidates come from four places, strongest first: *defined terms* ("A heuristic is a ..."),
*glossary lines* ("Heuristic: an estimate of ..."), *headings* (sections, slide titles) and
*frequent key phrases*. A candidate whose normalised name equals a known concept's name or
alias, or whose embedding is a close neighbour of a known concept's name, is merged into
that concept; the others become new concepts.

:class:`ConceptIndex` also finds which concepts a passage *mentions* (longest match of names
and aliases on normalised tokens), which the prerequisite inference builds on.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from slugify import slugify as _slugify

from knowledge.ingest.passages import Passage, split_sentences

MERGE_THRESHOLD = 0.88  # cosine of a candidate's name to a known concept's name
KEYPHRASE_MIN_PASSAGES = 3
KEYPHRASE_MAX = 15
MAX_TERM_WORDS = 6
KIND_RANK = {"defined": 0, "glossary": 1, "heading": 2, "keyphrase": 3}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _wordset("""
a an the and or of to in on for with by from as at is are was were be been being it its this
that these those there here which what who whom whose when where why how not no nor but if
then than so such can could may might must shall should will would do does did done has have
had having into onto over under about after before between through during without within
also only just very more most less least many much some any each every all both few other
another same own our ours we you your they them their he she his her him i me my one two
three first second third next last new used use using via per etc vs e g ie eg let us
je jsou byl byla bylo být a i v ve na do z ze s se k ke o u pro při za od po jak jako
který která které že to ten ta tu tak také ale nebo jen již už než
и в во на с со к ко о об от по для из за это как что который которая которые
не но или а же бы ли то так также уже только
""")
_STOP_STEMS = STOPWORDS | {t for w in STOPWORDS for t in (w[:-1],) if w.endswith("s")}
_GENERIC_HEADINGS = _wordset("""
introduction overview summary outline organizers organisers announcements organisation
organization logistics practical tomorrow next time contents agenda references questions
conclusion
conclusions motivation example examples exercise exercises recap today review appendix
bibliography acknowledgements acknowledgments discussion notes homework readings reading
definition definitions goals goal objectives plan contact quiz answers answer solution
solutions problem problems background takeaways remarks further thanks title abstract
úvod shrnutí příklad příklady organizační věci příště cvičení literatura obsah závěr otázky
motivace definice
введение заключение пример примеры напоминание организационное повторение
домашнее задание литература содержание вопросы итоги определение
""")
_LABEL_PREFIX = re.compile(
    r"^(?:lecture|lesson|chapter|part|week|unit|module|topic|section|slide|session|"
    r"přednáška|kapitola|část|týden|лекция|глава|часть|неделя|тема)\s*[\w.]*\s*[:.\-–—]\s*",
    re.IGNORECASE)
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.|[a-z]\))\s+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

_TERM = r"(?P<term>[^\W\d_][\w\-'’*/· ]{1,60}?)"
_ALIAS = r"(?:\s*\((?P<alias>[^)]{1,40})\))?"
_DEFINITIONS = [
    re.compile(rf"^(?:(?:an?|the)\s+)?{_TERM}{_ALIAS}\s+(?:is|are)\s+(?:an?|the|one of the|"
               r"defined as|called|any)\s+(?P<rest>.+)$", re.IGNORECASE),
    re.compile(rf"^(?:(?:an?|the)\s+)?{_TERM}{_ALIAS}\s+(?:refers to|is defined as|means|"
               r"denotes|stands for)\s+(?P<rest>.+)$", re.IGNORECASE),
    re.compile(rf"^(?:(?:an?|the)\s+)?{_TERM}{_ALIAS},\s+(?:also called|also known as|or)\s+"
               r"(?P<alias2>[^,]{2,40}),\s+(?:is|are)\s+(?P<rest>.+)$", re.IGNORECASE),
    re.compile(rf"^{_TERM}{_ALIAS}\s+(?:je|jsou)\s+(?P<rest>[^\W\d_A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ].+)$"),
    re.compile(rf"^(?:pojmem|termínem)\s+{_TERM}\s+(?:rozumíme|označujeme)\s+(?P<rest>.+)$",
               re.IGNORECASE),
    re.compile(rf"^{_TERM}{_ALIAS}\s+(?:se nazývá|nazýváme)\s+(?P<rest>.+)$", re.IGNORECASE),
    re.compile(rf"^{_TERM}{_ALIAS}\s+[—–-]\s+это\s+(?P<rest>[а-яё].+)$"),
    re.compile(rf"^{_TERM}{_ALIAS}\s+называ(?:ется|ют)\s+(?P<rest>.+)$", re.IGNORECASE),
]
_GLOSSARY = re.compile(
    r"^\s*(?:[-*•–]\s+)?(?P<term>[^\W\d_][^:\n—–]{1,50}?)\s*(?::|\s[—–-]\s)\s*"
    r"(?P<rest>[^\W\d_].{8,})$")


# ---------------------------------------------------------------------------------- names

def _stem(token: str) -> str:
    if len(token) > 5 and token.endswith(("ches", "shes", "sses", "xes", "zes")):
        return token[:-2]
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Lower-cased, lightly stemmed word tokens (``Neural networks`` -> neural, network)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return [_stem(t) for t in _TOKEN.findall(text)]


def name_key(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


def base_name(name: str) -> str:
    """``Bias (statistical estimator)`` -> ``Bias``."""
    return re.sub(r"\s*\([^)]*\)\s*", " ", name).strip()


def slugify(text: str) -> str:
    """A card id from a name: ascii letters, digits and single hyphens (python-slugify
    transliterates Czech and Russian; ``A*`` is ``a-star``, ``C++`` is ``c-plus-plus``)."""
    return _slugify(text, max_length=60, replacements=[["*", " star "], ["+", " plus "]]) \
        or "concept"


@dataclass(frozen=True)
class Mention:
    """One place where a passage names a concept."""

    concept: str
    start: int  # token position
    length: int  # tokens
    surface: str  # as written
    risky: bool  # a short, generic or acronym form: the passage must agree with the card
    case_ok: bool = True  # an acronym form written with the acronym's own letter case


@dataclass
class ConceptIndex:
    """Surface forms (names, aliases, names without their parenthesis) -> concept ids.

    Acronym forms (``IDS``, ``MAC``, ``CV``, ``mAP``) remember how they are written: "IDs",
    "Mac" or "map" in a passage are not those concepts. Forms of one word, acronyms, and
    names stripped of their qualifier ("Model" of *Model (logic)*) are *risky*: whoever
    uses the mentions checks that the passage agrees with the card (:mod:`senses`).
    """

    forms: dict[tuple[str, ...], set[str]] = field(default_factory=lambda: defaultdict(set))
    strong: dict[tuple[str, ...], set[str]] = field(default_factory=lambda: defaultdict(set))
    cased: dict[tuple[tuple[str, ...], str], set[tuple[str, ...]]] = field(
        default_factory=lambda: defaultdict(set))  # (key, concept) -> acronym spellings
    plain: set[tuple[tuple[str, ...], str]] = field(default_factory=set)  # any case allowed
    safe: set[tuple[tuple[str, ...], str]] = field(default_factory=set)  # not risky
    max_len: int = 1

    @classmethod
    def build(cls, concepts: Iterable[tuple[str, str, Sequence[str]]]) -> ConceptIndex:
        index = cls()
        for cid, name, aliases in concepts:
            index.add(cid, name, aliases)
        return index

    def add(self, cid: str, name: str, aliases: Sequence[str] = ()) -> None:
        qualified = base_name(name) != name.strip()
        for label, strong in ((name, True), *((a, True) for a in aliases),
                              (base_name(name), False)):
            key = name_key(label)
            if not _usable_form(key, label):
                continue
            (self.strong if strong else self.forms)[key].add(cid)
            self.max_len = max(self.max_len, len(key))
            if is_acronym(label):
                self.cased[(key, cid)].add(tuple(_surface_tokens(label)))
            else:
                self.plain.add((key, cid))
            weak = not strong and qualified  # "Model" of "Model (logic)"
            if len(key) > 1 and not weak and not is_acronym(label):
                self.safe.add((key, cid))

    def lookup(self, text: str) -> str | None:
        """The one concept whose name or alias is ``text`` (normalised), else None."""
        key = name_key(text)
        ids = self.strong.get(key) or self.forms.get(key) or set()
        return next(iter(ids)) if len(ids) == 1 else None

    def _resolve(self, key: tuple[str, ...]) -> str | None:
        ids = self.strong.get(key)
        if ids is None:
            ids = self.forms.get(key)
        return next(iter(ids)) if ids and len(ids) == 1 else None

    def spans(self, text: str) -> list[Mention]:
        """Every concept named in ``text`` (longest match first), with how it is written."""
        surface = _surface_tokens(text)
        toks = [_stem(t.lower()) for t in surface]
        found: list[Mention] = []
        i = 0
        while i < len(toks):
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                key = tuple(toks[i:i + n])
                if key in self.strong or key in self.forms:
                    cid = self._resolve(key)
                    if cid:
                        written = tuple(surface[i:i + n])
                        found.append(Mention(cid, i, n, " ".join(written),
                                             (key, cid) not in self.safe,
                                             self._case_ok(key, cid, written)))
                    i += n
                    break
            else:
                i += 1
        return found

    def _case_ok(self, key: tuple[str, ...], cid: str, written: tuple[str, ...]) -> bool:
        if (key, cid) in self.plain or (key, cid) not in self.cased:
            return True
        spellings = self.cased[(key, cid)]
        singular = (*written[:-1], written[-1][:-1]) if written[-1].endswith("s") else written
        return written in spellings or singular in spellings

    def mentions(self, text: str, check_case: bool = True) -> Counter:
        """Concepts named in ``text`` (longest match first), with how often."""
        return Counter(m.concept for m in self.spans(text) if m.case_ok or not check_case)


def _surface_tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    return _TOKEN.findall(text)


def is_acronym(label: str) -> bool:
    """``IDS``, ``CV``, ``mAP``, ``k-NN``: a short label whose capitals carry its meaning."""
    label = label.strip()
    letters = [ch for ch in label if ch.isalpha()]
    if not letters or " " in label or len(label) > 10:
        return False
    upper = sum(ch.isupper() for ch in letters)
    return upper >= 2 or (upper == 1 and not letters[0].isupper())


def _usable_form(key: tuple[str, ...], label: str) -> bool:
    if not key or len(key) > 10:
        return False
    if all(t in _STOP_STEMS for t in key):
        return False
    if len(key) == 1 and len(key[0]) <= 2:
        return label.strip().isupper() and len(label.strip()) >= 2  # acronyms like AI, RL
    return True


# ---------------------------------------------------------------------------------- candidates

@dataclass(frozen=True)
class Candidate:
    """A concept name found in the material."""

    term: str
    kind: str  # defined | glossary | heading | keyphrase
    passage: int  # index of the passage it was found in (course order)
    definition: str = ""  # the defining sentence, if any
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        return name_key(self.term)


def clean_term(term: str) -> str:
    term = " ".join(term.replace("**", "").replace("__", "").split()).strip(" .,:;-–—\"'“”")
    term = re.sub(r"(?<=\w{3})\s+[a-z](?:\([a-z, ]*\))?$", "", term)  # "Heuristic h(n)"
    return term[:1].upper() + term[1:] if term and term[0].islower() else term


def good_term(term: str, heading: bool = False) -> bool:
    words = term.split()
    if not 1 <= len(words) <= MAX_TERM_WORDS or len(term) < 2 or len(term) > 70:
        return False
    toks = tokens(term)
    if not toks or toks[0] in _STOP_STEMS or (toks[-1] in _STOP_STEMS and len(toks) > 1):
        return False
    if all(t in _STOP_STEMS or t.isdigit() for t in toks):
        return False
    if any(ch in term for ch in "?!=<>{}[]|@#$%^&~`\\"):
        return False
    if "http" in term.lower() or "www." in term.lower():
        return False
    return not (heading and " ".join(toks) in _GENERIC_HEADINGS)


def clean_heading(heading: str) -> str:
    text = " ".join(heading.split())
    text = _NUMBERING.sub("", text)
    text = _LABEL_PREFIX.sub("", text)
    if ":" in text:
        left, right = (part.strip() for part in text.split(":", 1))
        text = left if len(left.split()) <= 4 and left else right
    return clean_term(text)


def _definition_candidates(sentence: str) -> tuple[str, tuple[str, ...]] | None:
    sentence = sentence.strip().lstrip("-*• ").strip()
    for pattern in _DEFINITIONS:
        match = pattern.match(sentence)
        if not match:
            continue
        term = clean_term(match.group("term"))
        groups = match.groupdict()
        aliases = tuple(clean_term(a) for a in (groups.get("alias"), groups.get("alias2"))
                        if a and good_term(clean_term(a)))
        if good_term(term) and not term[0].isdigit():
            return term, aliases
    return None


def find_candidates(passages: Sequence[Passage]) -> list[Candidate]:
    """Every candidate of every passage, in course order."""
    found: list[Candidate] = []
    seen_headings: set[tuple[str, str]] = set()
    for i, p in enumerate(passages):
        heading = clean_heading(p.heading) if p.heading else ""
        if heading and (p.source, heading) not in seen_headings:
            seen_headings.add((p.source, heading))
            if good_term(heading, heading=True):
                found.append(Candidate(heading, "heading", i,
                                       definition=_first_sentence(p.text)))
        for line in p.text.split("\n"):
            match = _GLOSSARY.match(line)
            if match:
                term = clean_term(match.group("term"))
                if good_term(term, heading=True) and len(term.split()) <= 5:
                    found.append(Candidate(term, "glossary", i,
                                           definition=f"{term}: {match.group('rest').strip()}"))
        for sentence in split_sentences(p.text):
            hit = _definition_candidates(sentence)
            if hit:
                found.append(Candidate(hit[0], "defined", i, definition=sentence,
                                       aliases=hit[1]))
    return found


def _first_sentence(text: str) -> str:
    sentences = split_sentences(text)
    return sentences[0] if sentences else ""


_CLAUSE = re.compile(r"[.,;:!?()\[\]\"“”„«»\n/]+")
_PHRASE_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def key_phrases(passages: Sequence[Passage], known: ConceptIndex,
                taken: set[tuple[str, ...]], limit: int = KEYPHRASE_MAX) -> list[Candidate]:
    """Frequent 2-3 word phrases (no stop words, inside one clause) that appear in several
    passages of at least two files and overlap no known concept name or other candidate."""
    min_df = max(KEYPHRASE_MIN_PASSAGES, len(passages) // 50)
    n_sources = len({p.source for p in passages})
    covered = set(known.strong) | set(known.forms) | taken
    max_len = max((len(f) for f in covered), default=1)
    df: Counter = Counter()
    where: dict[tuple[str, ...], set[str]] = defaultdict(set)
    first: dict[tuple[str, ...], int] = {}
    surface: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    for i, p in enumerate(passages):
        grams = set()
        for clause in _CLAUSE.split(p.text):
            words = _PHRASE_WORD.findall(clause)
            stems = [tuple(_stem(t) for t in _TOKEN.findall(w.lower())) for w in words]
            masked = _mask_known(stems, covered, max_len)
            lowered = [w.lower() for w in words]
            for n in (2, 3):
                for j in range(len(lowered) - n + 1):
                    gram = lowered[j:j + n]
                    if any(masked[j:j + n]) or any(w in STOPWORDS or len(w) < 3 for w in gram):
                        continue
                    key = tuple(t for st in stems[j:j + n] for t in st)
                    if len(set(key)) < len(key):
                        continue
                    grams.add(key)
                    surface[key][" ".join(words[j:j + n])] += 1
                    first.setdefault(key, i)
                    where[key].add(p.source)
        df.update(grams)
    inside = {form[i:j] for form in covered for i in range(len(form))
              for j in range(i + 1, len(form) + 1)}

    def overlaps(key: tuple[str, ...]) -> bool:
        if key in inside:
            return True  # part of a known name
        return any(key[i:j] in covered for i in range(len(key))
                   for j in range(i + 1, len(key) + 1))

    ranked = sorted((k for k, c in df.items() if c >= min_df and not overlaps(k)
                     and (len(where[k]) >= 2 or n_sources < 2)),
                    key=lambda k: (-df[k], len(k), first[k]))
    out: list[Candidate] = []
    for key in ranked:
        if any(_contains(key, other.key) or _contains(other.key, key) for other in out):
            continue
        term = clean_term(surface[key].most_common(1)[0][0])
        if good_term(term):
            out.append(Candidate(term, "keyphrase", first[key]))
        if len(out) >= limit:
            break
    return out


def _mask_known(stems: list[tuple[str, ...]], covered: set[tuple[str, ...]],
                max_len: int) -> list[bool]:
    """Which words belong to a known name (longest match); phrases may not use them."""
    flat = [(k, t) for k, st in enumerate(stems) for t in st]
    masked = [False] * len(stems)
    i = 0
    while i < len(flat):
        for n in range(min(max_len, len(flat) - i), 0, -1):
            if tuple(t for _, t in flat[i:i + n]) in covered:
                for k, _ in flat[i:i + n]:
                    masked[k] = True
                i += n
                break
        else:
            i += 1
    return masked


def _contains(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    n = len(small)
    return any(big[i:i + n] == small for i in range(len(big) - n + 1))


# ---------------------------------------------------------------------------------- vetting

_FRAME = re.compile(
    r"^(?:(?:an?\s+)?introduction\s+to|intro\s+to|(?:the\s+)?basics\s+of|what\s+is|"
    r"understanding|why|úvod\s+do|základy|co\s+je|введение\s+в|основы|что\s+такое)\s+",
    re.IGNORECASE)
_FRAME_TAIL = re.compile(r"\s+(?:matters|explained|in\s+practice|basics|overview)$",
                         re.IGNORECASE)
MIN_PASSAGES_UNDEFINED = 2  # a term that is not defined must recur in this many passages


def framed_names(term: str) -> list[str]:
    """Names a heading may restate: ``Introduction to CLIP`` -> ``CLIP``; ``Explaining away
    (эффект объяснения)`` -> both parts."""
    out = []
    bare = _FRAME_TAIL.sub("", _FRAME.sub("", term)).strip()
    if bare and bare != term:
        out.append(bare)
    for inner in re.findall(r"\(([^)]{2,60})\)", term):
        out.append(inner.strip())
    outer = base_name(term)
    if outer and outer != term:
        out.append(outer)
    return out


def _subtitle(rest: str) -> bool:
    """``Your AI Tutor``: a glossary line's right side in title case is a subtitle."""
    words = [w for w in re.findall(r"[^\W\d_]+", rest) if len(w) > 3]
    return len(words) >= 2 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


_KIND_WORDS = _wordset("""
network model algorithm method approach architecture system framework technique
síť sítě metoda model algoritmus přístup сеть модель метод алгоритм подход архитектура
""")


def head_key(key: tuple[str, ...]) -> tuple[str, ...]:
    """``DALL·E network`` -> ``DALL·E``: a name without a trailing kind word."""
    return key[:-1] if len(key) > 1 and key[-1] in _KIND_WORDS else key


def body_passages(key: tuple[str, ...], passages: Sequence[Passage]) -> int:
    """In how many passages the term occurs outside the passage's heading line."""
    n = len(key)
    count = 0
    for p in passages:
        text = p.text
        if p.heading and text.lstrip().startswith(p.heading):
            text = text.lstrip()[len(p.heading):]
        toks = tokens(text)
        if any(tuple(toks[i:i + n]) == key for i in range(len(toks) - n + 1)):
            count += 1
    return count


def new_concept_problem(cand: Candidate, passages: Sequence[Passage]) -> str | None:
    """Why a candidate that matches no known concept is not a concept of its own (None: it
    is one). Defined terms are concepts; headings, glossary lines and key phrases must recur
    in the material's text; a glossary line whose right side is a subtitle is a page header."""
    if cand.kind == "defined":
        return None
    if cand.kind == "glossary" and _subtitle(cand.definition.split(":", 1)[-1]):
        return "a header or subtitle, not a definition"
    if body_passages(head_key(cand.key), passages) < MIN_PASSAGES_UNDEFINED:
        return "not defined and not used again in the material"
    return None


# ---------------------------------------------------------------------------------- merging

@dataclass(frozen=True)
class Resolved:
    """A candidate (the best of those with its name) and where it went."""

    candidate: Candidate
    concept_id: str | None  # the known concept it was merged into; None: a new concept
    how: str  # name | alias | embedding | new
    score: float = 1.0
    occurrences: tuple[int, ...] = ()  # passages where this name was a candidate


def merge_candidates(candidates: Sequence[Candidate], index: ConceptIndex,
                     names: Sequence[tuple[str, str]] = (),
                     name_vectors: np.ndarray | None = None,
                     embed: Callable[[list[str]], np.ndarray] | None = None,
                     threshold: float = MERGE_THRESHOLD) -> list[Resolved]:
    """Group candidates by normalised name, then merge each group into a known concept
    (same name or alias; else an embedding neighbour of a known name above ``threshold``)
    or keep it as new. ``names[i] = (concept id, name)`` is the row ``i`` of
    ``name_vectors``."""
    groups: dict[tuple[str, ...], list[Candidate]] = defaultdict(list)
    for cand in candidates:
        groups[cand.key].append(cand)
    best = []
    for _key, group in groups.items():
        group.sort(key=lambda c: (KIND_RANK[c.kind], c.passage))
        head = group[0]
        aliases = tuple(dict.fromkeys(a for c in group for a in c.aliases))
        occurrences = tuple(sorted({c.passage for c in group}))
        best.append((Candidate(head.term, head.kind, head.passage, head.definition, aliases),
                     occurrences))
    best.sort(key=lambda item: (item[0].passage, KIND_RANK[item[0].kind]))
    resolved: list[Resolved] = []
    pending: list[tuple[Candidate, tuple[int, ...]]] = []
    for cand, occ in best:
        cid = index.lookup(cand.term)
        if cid:
            resolved.append(Resolved(cand, cid, "name", 1.0, occ))
            continue
        alias_hit = next((index.lookup(a) for a in (*cand.aliases, *framed_names(cand.term))
                          if index.lookup(a)), None)
        if alias_hit:
            resolved.append(Resolved(cand, alias_hit, "alias", 1.0, occ))
            continue
        pending.append((cand, occ))
    if pending and embed is not None and name_vectors is not None and len(names):
        vecs = embed([c.term for c, _ in pending])
        sims = vecs @ name_vectors.T
        for (cand, occ), row in zip(pending, sims, strict=True):
            j = int(np.argmax(row))
            if float(row[j]) >= threshold:
                resolved.append(Resolved(cand, names[j][0], "embedding", float(row[j]), occ))
            else:
                resolved.append(Resolved(cand, None, "new", float(row[j]), occ))
    else:
        resolved.extend(Resolved(cand, None, "new", 0.0, occ) for cand, occ in pending)
    resolved.sort(key=lambda r: (r.candidate.passage, KIND_RANK[r.candidate.kind]))
    return resolved

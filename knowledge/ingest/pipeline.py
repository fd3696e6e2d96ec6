"""One ingestion run: files -> passages -> concepts -> prerequisite links -> store and cards.

Incremental: a file whose bytes hash like the stored passages' ``source_sha`` is not read
again; only new or changed files are read and embedded, and only their card files are
(re)written. A file that was ingested before but is now unreadable keeps its old passages.
Atomic: everything is computed first; then the passages namespace is rebuilt (new collection,
verified, pointer moved); only then are card files written (each by rename). A run that fails
before that point leaves the store, the cards and the manifest as they were.

:func:`ingest` runs the steps of :class:`_Run` in order; each step reads what the earlier ones
left on the run and adds its own part. The jobs around it live in their own modules: finding
and hashing files (:mod:`files`), the reader pool (:mod:`workers`), the vector cache
(:mod:`vector_cache`), the card files (:mod:`card_files`) and the report (:mod:`report`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.cards import Concept, load_card_file
from knowledge.common.errors import CardError, InvalidInputError
from knowledge.ingest import cards_out, evidence
from knowledge.ingest.card_files import (
    configured_cards,
    unique_id,
    unit_names,
    without_heading,
    write_card_files,
    write_if_changed,
)
from knowledge.ingest.cards_out import Manifest
from knowledge.ingest.discovery import (
    ConceptIndex,
    Resolved,
    clean_heading,
    find_candidates,
    key_phrases,
    merge_candidates,
    new_concept_problem,
    slugify,
    tokens,
)
from knowledge.ingest.evidence import CourseGraph, find_claims, judge
from knowledge.ingest.files import SourceFile, discover_files, file_sha, natural_key
from knowledge.ingest.passages import Passage, make_passages
from knowledge.ingest.prerequisites import (
    Link,
    Unit,
    build_profiles,
    material,
    score_pairs,
    select_links,
)
from knowledge.ingest.readers import MAX_FILE_BYTES, Document, SkipFile
from knowledge.ingest.report import (
    Bar,
    FileReport,
    IngestReport,
    MakeBar,
    describe_evidence,
)
from knowledge.ingest.senses import SenseCheck, SenseRules, unit_length
from knowledge.ingest.store import (
    PassageStore,
    StoredPassages,
    embedding_text,
    passage_from_record,
    passage_metadata,
)
from knowledge.ingest.vector_cache import TextVectors
from knowledge.ingest.workers import read_files
from knowledge.lexical import normalise
from knowledge.store import Record
from knowledge.validate import validate

log = logging.getLogger(__name__)

MAX_CONCEPTS_PER_PASSAGE = 12
MAX_NEW_CONCEPTS_PER_SOURCE = 80

Refine = Callable[[list[Link]], list[Link]]


@dataclass
class IngestOptions:
    course: str
    data_dir: Path
    course_dirs: Sequence[Path] = ()
    max_bytes: int = MAX_FILE_BYTES
    workers: int = max(1, min(4, os.cpu_count() or 1))
    embedding_model: str = "minilm-l6-int8"
    make_bar: MakeBar | None = None
    refine: Refine | None = None
    # called once the course's concepts are known, to build ``refine`` (needs names/summaries);
    # the command passes one built on its language model: this layer does not load models
    make_refiner: Callable[[Callable[[str], str]], Refine | None] | None = None
    senses: SenseRules = field(default_factory=SenseRules)  # word-sense rules (bench: ablation)
    calibration: dict[str, float] | None = None  # evidence weights (bench: refit); None: shipped


def course_paths(data_dir: Path, course: str) -> tuple[Path, Path]:
    """(the course's card folder, its ingest state folder)."""
    return data_dir / "courses" / course, data_dir / "ingest" / course


def check_course_name(course: str) -> str:
    if not cards_out.COURSE_NAME.match(course or ""):
        raise InvalidInputError(
            f"course name {course!r} is not usable as a folder name",
            "use lowercase letters, digits, '-' or '_' (e.g. --course ai-2026)")
    return course


def ingest(paths: Sequence[Path], options: IngestOptions, client,
           get_embedder: Callable[[], Any]) -> IngestReport:
    """Run one ingestion into ``client``'s passages namespace and the course folder."""
    run = _Run(paths, options, PassageStore(client), get_embedder)
    run.timed("discover_s", run.find_files)
    run.timed("read_s", run.read_changed)
    run.course_passages()
    run.timed("embed_s", run.embed)
    run.timed("concepts_s", run.concepts)
    run.timed("links_s", run.prerequisite_links)
    run.card_texts()
    run.timed("store_s", run.commit_passages)
    run.write_cards()
    run.report.timings["total_s"] = time.perf_counter() - run.started
    return run.report


@dataclass
class _NewConcept:
    resolved: Resolved
    aliases: list[str]

    @property
    def id(self) -> str:
        return str(self.resolved.concept_id)


@dataclass
class _Run:
    """The state of one ingestion, filled in step by step."""

    paths: Sequence[Path]
    options: IngestOptions
    store: PassageStore
    get_embedder: Callable[[], Any]
    started: float = field(default_factory=time.perf_counter)
    # files
    stored: StoredPassages | None = None
    manifest_sha: dict[str, str] = field(default_factory=dict)  # source -> sha when stored
    ours: list[Record] = field(default_factory=list)  # this course's stored passages
    current: dict[str, SourceFile] = field(default_factory=dict)  # sources that stay
    shas: dict[str, str] = field(default_factory=dict)
    to_read: list[SourceFile] = field(default_factory=list)
    new_passages: dict[str, list[Passage]] = field(default_factory=dict)
    docs: dict[str, Document] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # sources removed from a folder given now
    # passages
    all_passages: list[Passage] = field(default_factory=list)
    vec_of: dict[str, np.ndarray] = field(default_factory=dict)
    sha_of_source: dict[str, str] = field(default_factory=dict)
    others: list[Record] = field(default_factory=list)  # other courses' passages
    embedder: Any = None
    # concepts
    manifest: Manifest | None = None
    regenerate: set[str] = field(default_factory=set)  # sources whose card file is rewritten
    source_names: dict[str, str] = field(default_factory=dict)
    unit_of: dict[str, str] = field(default_factory=dict)
    ours_on_disk: list[Concept] = field(default_factory=list)
    known: dict[str, Concept] = field(default_factory=dict)
    new_of_source: dict[str, list[_NewConcept]] = field(default_factory=dict)
    about: list[set[str]] = field(default_factory=list)  # stored with each passage
    mentions: list[Any] = field(default_factory=list)  # Counter of concepts per passage
    units: list[Unit] = field(default_factory=list)
    spans: list[Any] = field(default_factory=list)  # every name found, per passage
    index: Any = None  # ConceptIndex of known and new concepts
    sense: Any = None  # SenseCheck
    # links and cards
    profiles: dict[str, Any] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    files_out: dict[str, str] = field(default_factory=dict)  # unit file name -> text
    new_cards: list[Concept] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.course = check_course_name(self.options.course)
        self.course_dir, self.state_dir = course_paths(self.options.data_dir, self.course)
        self.report = IngestReport(self.course, self.course_dir)
        self.bar = self.options.make_bar or (lambda _d, _t, _u: Bar())

    def timed(self, name: str, step: Callable[[], None]) -> None:
        start = time.perf_counter()
        step()
        self.report.timings[name] = time.perf_counter() - start

    def embedder_once(self):
        if self.embedder is None:
            self.embedder = self.get_embedder()
        return self.embedder

    @property
    def new_concepts(self) -> list[_NewConcept]:
        return [c for items in self.new_of_source.values() for c in items]

    # 1. which files changed ----------------------------------------------------------------
    def find_files(self) -> None:
        report = self.report
        sources = discover_files(self.paths, report)
        if not sources and not report.files:
            raise InvalidInputError("nothing to ingest", "give files or folders of material")
        self.stored = self.store.load()
        self.manifest_sha = self.stored.manifest(self.course)
        self.ours = self.stored.of_course(self.course)
        for src in sources:
            key = str(src.path)
            try:
                sha = file_sha(src.path, self.options.max_bytes)
            except SkipFile as exc:
                self._skip(src, exc.cause, exc.fix, keep=key in self.manifest_sha)
                continue
            self.current[key] = src
            self.shas[key] = sha
            if self.manifest_sha.get(key) == sha:
                report.files.append(FileReport(src.name, "unchanged"))
            else:
                self.to_read.append(src)

    def _skip(self, src: SourceFile, cause: str, fix: str, keep: bool) -> None:
        """Report a file that cannot be used now; its earlier passages stay if it had any."""
        self.report.files.append(FileReport(
            src.name, "skipped", cause + ("; its earlier passages are kept" if keep else ""),
            fix))
        key = str(src.path)
        self.shas.pop(key, None)
        if keep:
            self.current[key] = src
        else:
            self.current.pop(key, None)

    # 2. read and cut the changed ones ------------------------------------------------------
    def read_changed(self) -> None:
        bar = self.bar("reading files", len(self.to_read), "file")
        results = read_files([s.path for s in self.to_read], self.options.max_bytes,
                             self.options.workers, on_done=bar.update)
        bar.close()
        for src in self.to_read:
            status, value, fix = results[src.path]
            if status != "ok":
                self._skip(src, value, fix, keep=str(src.path) in self.manifest_sha)
                continue
            self._cut(src, value)
        self._removed_sources()

    def _cut(self, src: SourceFile, doc: Document) -> None:
        key = str(src.path)
        passages, removed = make_passages(doc, self.course, key, src.name)
        warnings = list(doc.warnings)
        if removed:
            warnings.append(f"{removed} instruction-like sentence(s) addressed to an AI model "
                            "were removed (e.g. 'ignore your instructions')")
        if not passages:
            self._skip(src, "no usable text", "check the file's content",
                       keep=key in self.manifest_sha)
            self.report.files[-1].kind = doc.kind
            return
        report = self.report
        self.docs[key] = doc
        self.new_passages[key] = passages
        report.changed_sources.add(key)
        report.pages_read += doc.pages
        report.minutes_read += doc.duration_s / 60
        report.files.append(FileReport(
            src.name, "ingested", kind=doc.kind, passages=len(passages), pages=doc.pages,
            minutes=round(doc.duration_s / 60, 2), words=doc.words, encoding=doc.encoding,
            warnings=warnings))

    def _removed_sources(self) -> None:
        """Sources under a folder given now, stored before, no longer there."""
        roots = [Path(p).expanduser().resolve() for p in self.paths
                 if Path(p).expanduser().is_dir()]
        self.gone = {s for s in self.manifest_sha if s not in self.current and any(
            Path(s).is_relative_to(r) for r in roots)}
        for s in sorted(self.gone):
            name = next((str(r.metadata.get("source_name")) for r in self.ours
                         if r.metadata["source"] == s), s)
            self.report.files.append(FileReport(name, "removed", "the file is gone: its "
                                                "passages and cards are removed"))

    # 3. the course's passages after this run, in course order ------------------------------
    def course_passages(self) -> None:
        kept = [r for r in self.ours if r.metadata["source"] not in self.new_passages
                and r.metadata["source"] not in self.gone]
        self.all_passages = [passage_from_record(r.document, r.metadata) for r in kept]
        for plist in self.new_passages.values():
            self.all_passages.extend(plist)
        self.all_passages.sort(key=lambda p: (natural_key(p.source_name), p.source, p.index))
        # a passage whose id (course, file, position, text) is unchanged keeps its
        # embedding, even inside a changed file
        self.vec_of = {r.id: r.embedding for r in self.ours}
        self.sha_of_source = {str(r.metadata["source"]): str(r.metadata.get("source_sha", ""))
                              for r in kept}
        self.sha_of_source.update({k: self.shas[k] for k in self.new_passages})

    # 4. embed what is new (everything if the model changed) --------------------------------
    def embed(self) -> None:
        stored = self.stored
        assert stored is not None
        model = self.options.embedding_model
        self.others = [r for r in stored.records if r.metadata.get("course") != self.course]
        need = [p for p in self.all_passages if p.id not in self.vec_of]
        if stored.info is not None and stored.records and stored.info.embedding_model != model:
            need = list(self.all_passages)  # vectors of two models cannot be mixed: all again
            texts = [embedding_text(passage_from_record(r.document, r.metadata))
                     for r in self.others]
            self.others = [Record(r.id, v, r.document, r.metadata) for r, v in zip(
                self.others, self.embedder_once().encode(texts), strict=True)]
        if need:
            bar = self.bar("embedding passages", len(need), "passage")
            vecs = self.embedder_once().encode([embedding_text(p) for p in need],
                                               progress=bar.update)
            bar.close()
            self.vec_of.update({p.id: v for p, v in zip(need, vecs, strict=True)})

    # 5. concepts: known ones, then candidates from the material ----------------------------
    def concepts(self) -> None:
        index = self._known_concepts()
        resolved = self._candidates(index)
        self._place_candidates(resolved, index)

    def _known_concepts(self) -> ConceptIndex:
        self.manifest = manifest = Manifest.load(self.state_dir / "manifest.json")
        live = {k for k in self.current if k not in self.gone and k in self.sha_of_source}
        self.regenerate = set(self.new_passages)
        self.regenerate |= {k for k in live if manifest.file_for(k) is None}  # never written
        self.source_names = {p.source: p.source_name for p in self.all_passages}
        self.unit_of = unit_names(self.source_names, manifest)
        configured = configured_cards(self.options.course_dirs, self.course_dir)
        course_dir = self.course_dir
        for path in sorted(course_dir.glob("*.y*ml")) if course_dir.is_dir() else []:
            owner = manifest.cards.get(path.name, {}).get("source")
            if owner in (self.regenerate | self.gone) and not manifest.edited(course_dir,
                                                                              path.name):
                continue  # rewritten from the material, or removed with its source
            try:
                self.ours_on_disk.extend(load_card_file(path))
            except CardError as exc:
                self.report.problems.append(f"{path.name}: {exc.cause} (left as it is)")
        self.known = {c.id: c for c in configured}
        for card in self.ours_on_disk:
            self.known.setdefault(card.id, card)
        return ConceptIndex.build((c.id, c.name, c.aliases) for c in self.known.values())

    def _candidates(self, index: ConceptIndex) -> list[Resolved]:
        """Candidate terms of the material, each merged into a known concept or new."""
        candidates = find_candidates(self.all_passages)
        candidates += key_phrases(self.all_passages, index, {c.key for c in candidates})
        names = [(c.id, c.name) for c in self.known.values()]
        cache = self.state_dir.parent / ".cache" / \
            f"vectors-{slugify(self.options.embedding_model)}.npz"
        vectors = TextVectors(cache, self.embedder_once)
        pending = [c for c in candidates if index.lookup(c.term) is None]
        name_vecs = vectors.encode([n for _, n in names]) if pending and names else None
        resolved = merge_candidates(candidates, index, names, name_vecs,
                                    vectors.encode if name_vecs is not None else None)
        vectors.save({n for _, n in names} | {c.term for c in pending})
        return resolved

    def _place_candidates(self, resolved: list[Resolved], index: ConceptIndex) -> None:
        """New concepts per source; what each passage is about; the units links are
        inferred from (sections and defining sentences)."""
        passages = self.all_passages
        used_ids = set(self.known)
        used_names = {normalise(label) for c in self.known.values()
                      for label in (c.name, *c.aliases)}
        self.about = [set() for _ in passages]
        heading_concept: dict[tuple[str, str], str] = {}
        definitions: list[tuple[int, str, str]] = []  # (passage, concept, defining sentence)
        for res in resolved:
            cand = res.candidate
            home = passages[cand.passage]
            cid = res.concept_id
            if cid is None:
                if home.source not in self.regenerate or normalise(cand.term) in used_names:
                    continue  # its source's cards stay as they are (maybe deleted by hand)
                problem = new_concept_problem(cand, passages)
                if problem:
                    self.report.not_concepts.append((cand.term, problem))
                    continue
                if len(self.new_of_source.get(home.source, [])) >= MAX_NEW_CONCEPTS_PER_SOURCE:
                    continue
                cid = unique_id(slugify(cand.term), used_ids)
                aliases = [a for a in cand.aliases if normalise(a)
                           and normalise(a) not in used_names
                           and normalise(a) != normalise(cand.term)]
                used_ids.add(cid)
                used_names.update({normalise(cand.term), *map(normalise, aliases)})
                self.new_of_source.setdefault(home.source, []).append(_NewConcept(
                    Resolved(cand, cid, "new", res.score, res.occurrences), aliases))
                index.add(cid, cand.term, aliases)
            elif res.how != "name" or cand.kind != "heading":
                self.report.merged.append((cand.term, cid, res.how))
            if cand.kind in ("defined", "glossary"):
                for i in res.occurrences:
                    self.about[i].add(cid)
                definitions.append((cand.passage, cid, cand.definition))
            if cand.kind == "heading":
                heading_concept[(home.source, home.heading)] = cid
        section_of: list[str | None] = []
        for i, p in enumerate(passages):
            hc = heading_concept.get((p.source, p.heading))
            if hc is None and p.heading:
                hc = index.lookup(clean_heading(p.heading))
            section_of.append(hc)
            if hc:
                self.about[i].add(hc)
        self.index = index
        self.sense = sense = self._sense_check()
        spans = [index.spans(p.text) for p in passages]
        def_spans = [(i, cid, index.spans(sentence)) for i, cid, sentence in definitions
                     if sentence]
        sense.prepare([*spans, *(row for _, _, row in def_spans)])
        self.mentions = [sense.keep(i, row) for i, row in enumerate(spans)]
        self.report.senses = dict(sense.stats)
        self.units = [Unit(i, frozenset([hc] if hc else []), 0, self.mentions[i])
                      for i, hc in enumerate(section_of)]
        self.units += [Unit(i, frozenset([cid]), 1, sense.keep(i, row, count=False))
                       for i, cid, row in def_spans]
        self.spans = spans

    def _sense_check(self) -> SenseCheck:
        """The word-sense rules, with the passages' and the cards' embeddings."""
        passages = self.all_passages
        vecs = unit_length(np.stack([self.vec_of[p.id] for p in passages])) if passages \
            else np.zeros((0, 1), dtype=np.float32)
        cache = self.state_dir.parent / ".cache" / \
            f"cards-{slugify(self.options.embedding_model)}.npz"
        texts = TextVectors(cache, self.embedder_once)
        # the course's own cards; concepts found in this material (new now, or ingested
        # before) are named by the material itself, so their sense is not in doubt
        card_text = {c.id: f"{c.name}. {c.summary}" for c in self.known.values()
                     if c.origin != "ingested"}

        def concept_vectors(ids: list[str]) -> dict[str, np.ndarray]:
            ids = [i for i in ids if i in card_text]
            rows = unit_length(texts.encode([card_text[i] for i in ids])) if ids else []
            texts.save(set(texts.vectors))
            return dict(zip(ids, rows, strict=True))

        unit_of = {c.id: c.unit for c in self.known.values()}
        source_of_unit = {unit: source for source, unit in self.unit_of.items()}
        home = {c.id: source_of_unit[c.unit] for c in self.known.values()
                if c.origin == "ingested" and c.unit in source_of_unit}
        home.update({c.id: passages[c.resolved.candidate.passage].source
                     for c in self.new_concepts})
        return SenseCheck(vecs, concept_vectors, unit_of, self.options.senses, home=home,
                          sources=[p.source for p in passages])

    # 6. prerequisite links -----------------------------------------------------------------
    def prerequisite_links(self) -> None:
        new = self.new_concepts
        new_set = {c.id for c in new}
        known = self.known
        self.profiles = profiles = build_profiles(set(known) | new_set, self.units)
        passages = self.all_passages
        mat = material(profiles, [p.source for p in passages],
                       np.stack([self.vec_of[p.id] for p in passages]) if passages else None)
        self.report.material = mat
        fixed = [(pre, c.id) for c in known.values() for pre in c.prerequisites if pre in known]
        self.display = {**{c.id: c.name for c in known.values()},
                        **{c.id: c.resolved.candidate.term for c in new}}
        refine = self.options.refine
        if refine is None and self.options.make_refiner is not None and profiles:
            summaries = {c.id: c.summary for c in known.values()}
            summaries.update({c.id: c.resolved.candidate.definition or c.resolved.candidate.term
                              for c in new})
            display = self.display
            refine = self.options.make_refiner(
                lambda cid: f"{display.get(cid, cid)}: {summaries.get(cid, '')[:300]}")
        self.links = self._judged_links(mat, fixed, refine) if profiles else []
        self.report.links = [x for x in self.links if x.concept in new_set]
        ours_ids = {c.id for c in self.ours_on_disk}
        self.report.suggestions = [x for x in self.links if x.concept not in new_set
                                   and x.concept not in ours_ids]

    def _judged_links(self, mat, fixed: list[tuple[str, str]], refine: Refine | None
                      ) -> list[Link]:
        """Scored pairs, refined by the model if asked, judged by the evidence a teacher
        recognises (:mod:`evidence`); explicit claims against the course graph are flagged."""
        scored = score_pairs(mat)
        if refine is not None:
            scored = refine(scored)
        index, sense = self.index, self.sense

        def mentions_of(i: int, text: str) -> list[str]:
            return list(sense.keep(i, index.spans(text), count=False))

        claims = find_claims(self.all_passages, self.about, mentions_of)
        defined_with = {(b, a) for u in self.units if u.level == 1 for a in u.owners
                        for b in u.mentions if b != a}
        judged = judge(scored, CourseGraph.from_edges(fixed), claims, set(self.known),
                       defined_with, self.options.calibration or evidence.WEIGHTS)
        self.report.flags = judged.flags
        self.report.scored = judged.links
        return select_links(judged.links, evidence.KEEP_THRESHOLD, fixed=fixed)

    # 7. card files of the regenerated sources ----------------------------------------------
    def card_texts(self) -> None:
        links_of: dict[str, list[Link]] = {}
        for link in self.report.links:
            if link.confidence >= evidence.SHOW_THRESHOLD:
                links_of.setdefault(link.concept, []).append(link)
        for source in sorted(self.regenerate,
                             key=lambda s: natural_key(self.source_names.get(s, s))):
            unit = self.unit_of[source]
            cards = [self._card(c, unit, links_of) for c in self.new_of_source.get(source, [])]
            self.new_cards.extend(cards)
            if cards:
                title = self.docs[source].title if source in self.docs else \
                    next((p.title for p in self.all_passages if p.source == source), unit)
                self.files_out[f"{unit}.yaml"] = cards_out.unit_file_text(
                    unit, title, cards, self.source_names.get(source, source))
        known = list(self.known.values())
        before = {str(p) for p in validate(known)}
        problems = [p for p in validate([*known, *self.new_cards]) if str(p) not in before]
        if problems:  # should not happen; never write cards that break the course
            self.report.problems += [str(p) for p in problems[:20]]
            raise CardError(f"ingested cards would not validate: {problems[0]}",
                            "report this as a bug; nothing was changed")
        self.report.new_concepts = [c.id for c in self.new_cards]

    def _card(self, new: _NewConcept, unit: str, links_of: dict[str, list[Link]]) -> Concept:
        cid, cand = new.id, new.resolved.candidate
        profile = self.profiles.get(cid)
        own = [self.all_passages[i] for i in profile.own] if profile is not None else \
            [self.all_passages[cand.passage]]
        texts = [without_heading(p) for p in own]
        if cand.passage not in (profile.own if profile is not None else []):
            texts.insert(0, without_heading(self.all_passages[cand.passage]))
        texts += [without_heading(p) for i, p in enumerate(self.all_passages)
                  if cid in self.mentions[i] and p not in own][:5]  # where the material uses it
        sentences = list(dict.fromkeys(
            s for t in ([cand.definition] if cand.kind == "defined" else []) + texts
            for s in cards_out.prose(t)))
        head = cand.key[:1]
        about = [s for s in sentences if head and head[0] in tokens(s)] or sentences
        summary = cards_out.first_sentences(" ".join(about[:2])) if about else \
            cards_out.first_sentences(cards_out.clean_text(cand.definition or cand.term))
        related = [c for c, _ in profile.refs.most_common(6)] if profile is not None else []
        return cards_out.make_card(
            cid, cand.term, unit, summary, cards_out.explanation_from(sentences),
            [p.label for p in own][:3], [x.prerequisite for x in links_of.get(cid, [])],
            related[:4], new.aliases)

    # 8. commit: passages first (atomic), then the card files -------------------------------
    def commit_passages(self) -> None:
        records = list(self.others)
        for i, p in enumerate(self.all_passages):
            own_ids = sorted(self.about[i])
            named = [c for c, _ in self.mentions[i].most_common() if c not in self.about[i]]
            records.append(Record(p.id, self.vec_of[p.id], p.text, passage_metadata(
                p, self.sha_of_source.get(p.source, ""), own_ids,
                named[:max(0, MAX_CONCEPTS_PER_PASSAGE - len(own_ids))])))
        report = self.report
        if records or (self.stored is not None and self.stored.info is not None):
            _info, report.store_changed = self.store.commit(records,
                                                            self.options.embedding_model)
        old_ids = {r.id for r in self.ours}
        new_ids = {p.id for p in self.all_passages}
        report.passages_total = len(self.all_passages)
        report.passages_added = len(new_ids - old_ids)
        report.passages_removed = len(old_ids - new_ids)

    def write_cards(self) -> None:
        manifest = self.manifest
        assert manifest is not None
        report, course_dir = self.report, self.course_dir
        write_card_files(report, manifest, course_dir, self.state_dir, self.regenerate,
                         self.gone, self.unit_of, self.files_out)
        if self.regenerate or self.gone or not (course_dir / "REVIEW.md").exists():
            describe = describe_evidence(self.all_passages, self.display)
            review = cards_out.review_markdown(
                self.course, [*self.ours_on_disk, *self.new_cards],
                {x.edge: x for x in self.links}, report.suggestions, self.display, describe,
                [m for m in report.merged if m[2] != "name"], report.flags,
                evidence.SHOW_THRESHOLD)
            write_if_changed(course_dir / "REVIEW.md", review)
            write_if_changed(course_dir / "links.json",
                             cards_out.links_json([*report.links, *report.suggestions],
                                                  describe))
        manifest.save()


__all__ = ["FileReport", "IngestOptions", "IngestReport", "course_paths", "ingest"]

"""One ingestion run: files -> passages -> concepts -> prerequisite links -> store and cards.

Incremental: a file whose bytes hash like the stored passages' ``source_sha`` is not read
again; only new or changed files are read and embedded, and only their card files are
(re)written. A file that was ingested before but is now unreadable keeps its old passages.
Atomic: everything is computed first; then the passages namespace is rebuilt (new collection,
verified, pointer moved); only then are card files written (each by rename). A run that fails
before that point leaves the store, the cards and the manifest as they were.
"""

from __future__ import annotations

import concurrent.futures as cf
import errno
import hashlib
import logging
import multiprocessing
import os
import re
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.cards import Concept, card_files, load_card_file
from knowledge.errors import CardError, InvalidInputError
from knowledge.ingest import cards_out
from knowledge.ingest.cards_out import Manifest, unit_slug
from knowledge.ingest.discovery import (
    ConceptIndex,
    Resolved,
    clean_heading,
    find_candidates,
    key_phrases,
    merge_candidates,
    slugify,
)
from knowledge.ingest.passages import Passage, make_passages
from knowledge.ingest.prerequisites import (
    Link,
    Unit,
    build_profiles,
    infer_links,
    material,
)
from knowledge.ingest.readers import (
    MAX_FILE_BYTES,
    Document,
    SkipFile,
    read_file,
    unsupported,
)
from knowledge.ingest.store import (
    PassageStore,
    StoredPassages,
    embedding_text,
    passage_from_record,
    passage_metadata,
)
from knowledge.store import Record
from knowledge.validate import validate

log = logging.getLogger(__name__)

MAX_CONCEPTS_PER_PASSAGE = 12
PROCESS_POOL_MIN_BYTES = 2 * 2**20  # PDFs above this in total are parsed in processes
MAX_NEW_CONCEPTS_PER_SOURCE = 80


class Bar:
    """Progress callbacks; the CLI passes tqdm bars, the library defaults to silence."""

    def update(self, n: int = 1) -> None:  # noqa: B027 - optional hook
        pass

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


MakeBar = Callable[[str, int, str], Any]  # (description, total, unit) -> object with update


@dataclass
class FileReport:
    path: str
    status: str  # ingested | unchanged | skipped | removed | kept
    reason: str = ""
    fix: str = ""
    kind: str = ""
    passages: int = 0
    pages: int = 0
    minutes: float = 0.0
    words: int = 0
    encoding: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", 0, 0.0, [])}


@dataclass
class IngestReport:
    course: str
    course_dir: Path
    files: list[FileReport] = field(default_factory=list)
    passages_total: int = 0
    passages_added: int = 0
    passages_removed: int = 0
    store_changed: bool = False
    new_concepts: list[str] = field(default_factory=list)
    merged: list[tuple[str, str, str]] = field(default_factory=list)  # term, concept, how
    links: list[Link] = field(default_factory=list)  # written into new cards
    suggestions: list[Link] = field(default_factory=list)  # for concepts of other folders
    cards_written: list[str] = field(default_factory=list)
    cards_kept: list[str] = field(default_factory=list)  # edited by the teacher: not touched
    cards_removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    pages_read: int = 0
    minutes_read: float = 0.0
    material: Any = field(default=None, repr=False)  # the inference input, for benchmarks
    changed_sources: set[str] = field(default_factory=set, repr=False)

    @property
    def skipped(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def changed(self) -> bool:
        return bool(self.store_changed or self.cards_written or self.cards_removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "course": self.course, "course_dir": str(self.course_dir),
            "files": [f.as_dict() for f in self.files],
            "passages": {"total": self.passages_total, "added": self.passages_added,
                         "removed": self.passages_removed},
            "store_changed": self.store_changed, "new_concepts": self.new_concepts,
            "merged": [{"term": t, "concept": c, "how": h} for t, c, h in self.merged],
            "links": [{"prerequisite": x.prerequisite, "concept": x.concept,
                       "confidence": x.confidence} for x in self.links],
            "suggestions": [{"prerequisite": x.prerequisite, "concept": x.concept,
                             "confidence": x.confidence} for x in self.suggestions],
            "cards_written": self.cards_written, "cards_kept": self.cards_kept,
            "cards_removed": self.cards_removed, "problems": self.problems,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "pages_read": self.pages_read, "transcript_minutes_read": round(self.minutes_read, 2),
        }


@dataclass(frozen=True)
class SourceFile:
    path: Path  # resolved
    name: str  # shown: relative to the folder that was given
    root: Path | None  # the folder it was found in (None for a file given by name)


# ---------------------------------------------------------------------------------- files

def natural_key(text: str) -> tuple:
    """``lecture2`` before ``lecture10``."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text))


def discover_files(paths: Sequence[Path], report: IngestReport) -> list[SourceFile]:
    """The supported files under ``paths``, in course order; the rest are reported."""
    found: dict[Path, SourceFile] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            cause, fix = _link_problem(path) or ("not found", "check the path")
            report.files.append(FileReport(str(path), "skipped", cause, fix))
            continue
        if path.is_file():
            resolved = path.resolve()
            found.setdefault(resolved, SourceFile(resolved, path.name, None))
            continue
        root = path.resolve()
        try:
            entries = sorted((p for p in root.rglob("*")), key=lambda p: natural_key(str(p)))
        except PermissionError as exc:
            report.files.append(FileReport(str(path), "skipped", f"folder cannot be listed "
                                           f"({exc.strerror})", "make it readable"))
            continue
        visible = [p for p in entries
                   if not any(part.startswith(".") for part in p.relative_to(root).parts)]
        for p in visible:
            problem = _link_problem(p)
            if problem:
                report.files.append(FileReport(f"{root.name}/{p.relative_to(root).as_posix()}",
                                               "skipped", *problem))
        files = [p for p in visible if p.is_file()]
        if not files:
            report.files.append(FileReport(str(path), "skipped", "empty folder: no files",
                                           "put lecture notes, slides (PDF) or transcripts "
                                           "in it"))
            continue
        for p in files:
            name = f"{root.name}/{p.relative_to(root).as_posix()}"
            problem = unsupported(p)
            if problem is not None:
                report.files.append(FileReport(name, "skipped", problem.cause, problem.fix))
                continue
            found.setdefault(p.resolve(), SourceFile(p.resolve(), name, root))
    return sorted(found.values(), key=lambda s: natural_key(s.name))


def _link_problem(path: Path) -> tuple[str, str] | None:
    """(cause, fix) for a symbolic link that is not followed: a loop, a dangling link, or a
    link to a folder (folders are walked without following links, so a loop cannot hang)."""
    if not path.is_symlink():
        return None
    target = os.readlink(path)
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (f"a symlink loop ({path.name} -> {target} leads back to itself)",
                    "remove the link or point it at a real file")
        return (f"a broken symlink (its target {target} does not exist)",
                "remove the link or point it at a real file")
    if not stat.S_ISDIR(info.st_mode):
        return None
    resolved = path.resolve()
    if path.parent.resolve().is_relative_to(resolved):
        return (f"a symlink loop ({path.name} -> {target} points to a folder that contains "
                "it)", "remove the link; the folder is read once already")
    return (f"a link to a folder ({target}): links are not followed inside a folder",
            f"give {resolved} as a PATH of its own")


def file_sha(path: Path, max_bytes: int) -> str:
    """sha256 of the file; SkipFile for the size/permission problems read_file reports."""
    from knowledge.ingest.readers import _check_file

    _check_file(path, max_bytes)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    except PermissionError as exc:
        raise SkipFile("permission denied (not readable by this user)",
                       "make it readable (chmod +r) or ask its owner") from exc
    except OSError as exc:
        raise SkipFile(f"cannot be read ({exc.strerror})", "check the file system") from exc
    return digest.hexdigest()


def _read_one(path: str, max_bytes: int) -> tuple[str, Any, str]:
    """Worker: ("ok", Document, "") or ("skip", cause, fix); never raises."""
    try:
        return "ok", read_file(Path(path), max_bytes=max_bytes), ""
    except SkipFile as exc:
        return "skip", exc.cause, exc.fix
    except Exception as exc:  # a reader bug must not stop the run: report it per file
        log.debug("reading %s failed", path, exc_info=True)
        return "skip", f"could not be read ({type(exc).__name__}: {exc})", \
            "report this file as a bug; the rest was ingested"


def read_files(paths: Sequence[Path], max_bytes: int, workers: int,
               on_done: Callable[[], None] | None = None) -> dict[Path, tuple[str, Any, str]]:
    """Read files in parallel where it pays: PDFs (pure-Python parsing) in processes,
    the rest in threads."""
    results: dict[Path, tuple[str, Any, str]] = {}
    if not paths:
        return results
    pdf_bytes = sum(p.stat().st_size for p in paths if p.suffix.lower() == ".pdf"
                    and p.exists() and p.stat().st_size <= max_bytes)
    use_processes = workers > 1 and pdf_bytes >= PROCESS_POOL_MIN_BYTES and len(paths) > 1
    if workers <= 1 or len(paths) == 1:
        for p in paths:
            results[p] = _read_one(str(p), max_bytes)
            if on_done:
                on_done()
        return results
    if use_processes:
        pool: cf.Executor = cf.ProcessPoolExecutor(
            max_workers=min(workers, len(paths)),
            mp_context=multiprocessing.get_context("spawn"))
    else:
        pool = cf.ThreadPoolExecutor(max_workers=min(workers, len(paths)))
    with pool:
        futures = {pool.submit(_read_one, str(p), max_bytes): p for p in paths}
        for fut in cf.as_completed(futures):
            results[futures[fut]] = fut.result()
            if on_done:
                on_done()
    return results


# ---------------------------------------------------------------------------------- helpers

def _card_concepts(cards: Sequence[Concept]):
    return ((c.id, c.name, c.aliases) for c in cards)


def _validate_key(text: str) -> str:  # as knowledge.validate._name_key
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


class TextVectors:
    """Embeddings of short texts (concept names, candidate terms) cached on disk per model,
    so a run with nothing new to read does not even load the model."""

    def __init__(self, path: Path, get_embedder: Callable[[], Any]):
        self.path = path
        self.get_embedder = get_embedder
        self.vectors: dict[str, np.ndarray] = {}
        self.dirty = False
        try:
            with np.load(path, allow_pickle=False) as data:
                self.vectors = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError):
            self.vectors = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            vecs = self.get_embedder().encode(missing, batch_size=128)
            self.vectors.update(zip(missing, vecs, strict=True))
            self.dirty = True
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def save(self, keep: set[str]) -> None:
        if not self.dirty:
            return
        texts = sorted(t for t in self.vectors if t in keep)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, texts=np.array(texts, dtype=str),
                     vectors=np.stack([self.vectors[t] for t in texts]) if texts
                     else np.zeros((0, 1), dtype=np.float32))
            os.replace(tmp, self.path)
        except OSError:
            log.debug("vector cache not written", exc_info=True)


def describe_evidence(passages: Sequence[Passage], names: dict[str, str]) -> Callable[[Link],
                                                                                      str]:
    def describe(link: Link) -> str:
        ev = link.evidence
        a, b = names.get(link.concept, link.concept), names.get(link.prerequisite,
                                                                  link.prerequisite)
        parts = []
        m, n = ev.get("mentions", [0, 0])
        if m:
            parts.append(f"{m} of {n} passage(s) on {a} name {b}")
        back, n_back = ev.get("mentioned_back", [0, 0])
        if back:
            parts.append(f"{back} of {n_back} on {b} name {a}")
        parts.append(f"RefD {ev.get('refd', 0):+.2f}")
        first_b, first_a = ev.get("introduced", [None, None])
        if first_b is not None and first_a is not None and first_b < len(passages) \
                and first_a < len(passages):
            if first_b == first_a:
                parts.append(f"both are introduced in {passages[first_a].label}")
            else:
                where = "before" if first_b < first_a else "after"
                parts.append(f"{b} is introduced {where} {a} ({passages[first_b].label} vs "
                             f"{passages[first_a].label})")
        if "llm" in ev:
            parts.append(f"local model says {ev['llm']}")
        return "; ".join(parts)

    return describe


# ---------------------------------------------------------------------------------- run

@dataclass
class IngestOptions:
    course: str
    data_dir: Path
    course_dirs: Sequence[Path] = ()
    max_bytes: int = MAX_FILE_BYTES
    workers: int = max(1, min(4, os.cpu_count() or 1))
    embedding_model: str = "minilm-l6-int8"
    make_bar: MakeBar | None = None
    refine: Callable[[list[Link]], list[Link]] | None = None
    # called once the course's concepts are known, to build ``refine`` (needs names/summaries)
    make_refiner: Callable[[Callable[[str], str]], Callable[[list[Link]], list[Link]]] | None \
        = None


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
    t0 = time.perf_counter()
    course = check_course_name(options.course)
    course_dir, state_dir = course_paths(options.data_dir, course)
    report = IngestReport(course, course_dir)
    bar_factory = options.make_bar or (lambda _d, _t, _u: Bar())

    sources = discover_files(paths, report)
    if not sources and not report.files:
        raise InvalidInputError("nothing to ingest", "give files or folders of material")

    store = PassageStore(client)
    stored: StoredPassages = store.load()
    manifest_sha = stored.manifest(course)
    ours = stored.of_course(course)
    report.timings["discover_s"] = time.perf_counter() - t0

    # 1. which files changed ------------------------------------------------------------
    to_read: list[SourceFile] = []
    current: dict[str, SourceFile] = {}
    shas: dict[str, str] = {}
    for src in sources:
        key = str(src.path)
        try:
            sha = file_sha(src.path, options.max_bytes)
        except SkipFile as exc:
            keep = key in manifest_sha
            report.files.append(FileReport(
                src.name, "skipped", exc.cause + ("; its earlier passages are kept" if keep
                                                  else ""), exc.fix))
            if keep:
                current[key] = src
            continue
        current[key] = src
        shas[key] = sha
        if manifest_sha.get(key) == sha:
            report.files.append(FileReport(src.name, "unchanged"))
        else:
            to_read.append(src)

    # 2. read and cut the changed ones ----------------------------------------------------
    t1 = time.perf_counter()
    bar = bar_factory("reading files", len(to_read), "file")
    results = read_files([s.path for s in to_read], options.max_bytes, options.workers,
                         on_done=bar.update)
    bar.close()
    new_passages: dict[str, list[Passage]] = {}
    docs: dict[str, Document] = {}
    for src in to_read:
        key = str(src.path)
        status, value, fix = results[src.path]
        if status != "ok":
            keep = key in manifest_sha
            report.files.append(FileReport(
                src.name, "skipped", value + ("; its earlier passages are kept" if keep
                                              else ""), fix))
            shas.pop(key, None)
            if not keep:
                current.pop(key, None)
            continue
        doc: Document = value
        passages, removed = make_passages(doc, course, key, src.name)
        warnings = list(doc.warnings)
        if removed:
            warnings.append(f"{removed} instruction-like sentence(s) addressed to an AI model "
                            "were removed (e.g. 'ignore your instructions')")
        if not passages:
            report.files.append(FileReport(src.name, "skipped", "no usable text",
                                           "check the file's content", kind=doc.kind))
            shas.pop(key, None)
            if key not in manifest_sha:
                current.pop(key, None)
            continue
        docs[key] = doc
        new_passages[key] = passages
        report.changed_sources.add(key)
        report.pages_read += doc.pages
        report.minutes_read += doc.duration_s / 60
        report.files.append(FileReport(
            src.name, "ingested", kind=doc.kind, passages=len(passages), pages=doc.pages,
            minutes=round(doc.duration_s / 60, 2), words=doc.words, encoding=doc.encoding,
            warnings=warnings))
    report.timings["read_s"] = time.perf_counter() - t1

    # removed sources: under a folder given now, stored before, no longer there
    roots = [Path(p).expanduser().resolve() for p in paths if Path(p).expanduser().is_dir()]
    gone = {s for s in manifest_sha if s not in current and any(
        Path(s).is_relative_to(r) for r in roots)}
    for s in sorted(gone):
        name = next((str(r.metadata.get("source_name")) for r in ours
                     if r.metadata["source"] == s), s)
        report.files.append(FileReport(name, "removed", "the file is gone: its passages "
                                       "and cards are removed"))

    # 3. the course's passages after this run, in course order ----------------------------
    kept_records = [r for r in ours if r.metadata["source"] not in new_passages
                    and r.metadata["source"] not in gone]
    all_passages: list[Passage] = [passage_from_record(r.document, r.metadata)
                                   for r in kept_records]
    for plist in new_passages.values():
        all_passages.extend(plist)
    all_passages.sort(key=lambda p: (natural_key(p.source_name), p.source, p.index))
    # a passage whose id (course, file, position, text) is unchanged keeps its embedding,
    # even inside a changed file
    vec_of: dict[str, np.ndarray] = {r.id: r.embedding for r in ours}
    sha_of_source = {str(r.metadata["source"]): str(r.metadata.get("source_sha", ""))
                     for r in kept_records}
    sha_of_source.update({k: shas[k] for k in new_passages})

    # 4. embed what is new (everything if the model changed) ------------------------------
    t2 = time.perf_counter()
    model = options.embedding_model
    embedder = None

    def embedder_once():
        nonlocal embedder
        if embedder is None:
            embedder = get_embedder()
        return embedder

    others = [r for r in stored.records if r.metadata.get("course") != course]
    need = [p for p in all_passages if p.id not in vec_of]
    if stored.info is not None and stored.records and stored.info.embedding_model != model:
        need = list(all_passages)  # vectors of two models cannot be mixed: re-embed all
        texts = [embedding_text(passage_from_record(r.document, r.metadata)) for r in others]
        others = [Record(r.id, v, r.document, r.metadata) for r, v in zip(
            others, embedder_once().encode(texts), strict=True)]
    if need:
        ebar = bar_factory("embedding passages", len(need), "passage")
        vecs = embedder_once().encode([embedding_text(p) for p in need], progress=ebar.update)
        ebar.close()
        vec_of.update({p.id: v for p, v in zip(need, vecs, strict=True)})
    report.timings["embed_s"] = time.perf_counter() - t2

    # 5. concepts: known ones, then candidates from the material ---------------------------
    t3 = time.perf_counter()
    manifest = Manifest.load(state_dir / "manifest.json")
    live = {k for k in current if k not in gone and k in sha_of_source}
    regenerate = set(new_passages)  # sources whose card file is (re)written
    regenerate |= {k for k in live if manifest.file_for(k) is None}  # never written
    source_names = {p.source: p.source_name for p in all_passages}
    unit_of = _unit_names(source_names, manifest)
    configured = _configured_cards(options.course_dirs, course_dir)
    ours_on_disk: list[Concept] = []
    for path in sorted(course_dir.glob("*.y*ml")) if course_dir.is_dir() else []:
        owner = manifest.cards.get(path.name, {}).get("source")
        if owner in (regenerate | gone) and not manifest.edited(course_dir, path.name):
            continue  # rewritten from the material, or removed with its source
        try:
            ours_on_disk.extend(load_card_file(path))
        except CardError as exc:
            report.problems.append(f"{path.name}: {exc.cause} (left as it is)")
    known: dict[str, Concept] = {c.id: c for c in configured}
    for card in ours_on_disk:
        known.setdefault(card.id, card)
    index = ConceptIndex.build(_card_concepts(list(known.values())))

    candidates = find_candidates(all_passages)
    candidates += key_phrases(all_passages, index, {c.key for c in candidates})
    names = [(c.id, c.name) for c in known.values()]
    vectors = TextVectors(state_dir.parent / ".cache" / f"vectors-{slugify(model)}.npz",
                          embedder_once)
    pending = [c for c in candidates if index.lookup(c.term) is None]
    name_vecs = vectors.encode([n for _, n in names]) if pending and names else None
    resolved = merge_candidates(candidates, index, names, name_vecs,
                                vectors.encode if name_vecs is not None else None)
    vectors.save({n for _, n in names} | {c.term for c in pending})

    new_cards_src: dict[str, list[tuple[Resolved, list[str]]]] = {}
    used_ids = set(known)
    used_names = {_validate_key(label) for c in known.values()
                  for label in (c.name, *c.aliases)}
    about: list[set[str]] = [set() for _ in all_passages]  # stored with each passage
    heading_concept: dict[tuple[str, str], str] = {}
    definitions: list[tuple[int, str, str]] = []  # (passage, concept, defining sentence)
    for res in resolved:
        cand = res.candidate
        home = all_passages[cand.passage]
        cid = res.concept_id
        if cid is None:
            if home.source not in regenerate or _validate_key(cand.term) in used_names:
                continue  # its source's cards stay as they are (maybe deleted by hand)
            if len(new_cards_src.get(home.source, [])) >= MAX_NEW_CONCEPTS_PER_SOURCE:
                continue
            cid = _unique_id(slugify(cand.term), used_ids)
            aliases = [a for a in cand.aliases if _validate_key(a)
                       and _validate_key(a) not in used_names
                       and _validate_key(a) != _validate_key(cand.term)]
            used_ids.add(cid)
            used_names.update({_validate_key(cand.term), *map(_validate_key, aliases)})
            new_cards_src.setdefault(home.source, []).append(
                (Resolved(cand, cid, "new", res.score, res.occurrences), aliases))
            index.add(cid, cand.term, aliases)
        elif res.how != "name" or cand.kind != "heading":
            report.merged.append((cand.term, cid, res.how))
        if cand.kind in ("defined", "glossary"):
            for i in res.occurrences:
                about[i].add(cid)
            definitions.append((cand.passage, cid, cand.definition))
        if cand.kind == "heading":
            heading_concept[(home.source, home.heading)] = cid
    section_of: list[str | None] = []
    for i, p in enumerate(all_passages):
        hc = heading_concept.get((p.source, p.heading))
        if hc is None and p.heading:
            hc = index.lookup(clean_heading(p.heading))
        section_of.append(hc)
        if hc:
            about[i].add(hc)
    mentions = [index.mentions(p.text) for p in all_passages]
    units = [Unit(i, frozenset([hc] if hc else []), 0, mentions[i])
             for i, hc in enumerate(section_of)]
    units += [Unit(i, frozenset([cid]), 1, index.mentions(sentence))
              for i, cid, sentence in definitions if sentence]
    report.timings["concepts_s"] = time.perf_counter() - t3

    # 6. prerequisite links --------------------------------------------------------------
    t4 = time.perf_counter()
    new_list = [(res, aliases) for items in new_cards_src.values() for res, aliases in items]
    new_set = {res.concept_id for res, _ in new_list}
    all_ids = set(known) | new_set
    profiles = build_profiles(all_ids, units)
    mat = material(profiles, [p.source for p in all_passages],
                   np.stack([vec_of[p.id] for p in all_passages]) if all_passages else None)
    report.material = mat
    fixed = [(pre, c.id) for c in known.values() for pre in c.prerequisites if pre in known]
    display = {**{c.id: c.name for c in known.values()},
               **{res.concept_id: res.candidate.term for res, _ in new_list}}
    refine = options.refine
    if refine is None and options.make_refiner is not None and profiles:
        summaries = {c.id: c.summary for c in known.values()}
        summaries.update({res.concept_id: res.candidate.definition or res.candidate.term
                          for res, _ in new_list})
        refine = options.make_refiner(
            lambda cid: f"{display.get(cid, cid)}: {summaries.get(cid, '')[:300]}")
    links = infer_links(mat, fixed=fixed, refine=refine) if profiles else []
    report.links = [x for x in links if x.concept in new_set]
    ours_ids = {c.id for c in ours_on_disk}
    report.suggestions = [x for x in links if x.concept not in new_set
                          and x.concept not in ours_ids]
    report.timings["links_s"] = time.perf_counter() - t4

    # 7. card files of the regenerated sources ---------------------------------------------
    links_of: dict[str, list[Link]] = {}
    for link in report.links:
        links_of.setdefault(link.concept, []).append(link)
    files_out: dict[str, str] = {}  # unit file name -> text
    new_cards: list[Concept] = []
    for source in sorted(regenerate, key=lambda s: natural_key(source_names.get(s, s))):
        unit = unit_of[source]
        cards = []
        for res, aliases in new_cards_src.get(source, []):
            cid = res.concept_id
            home = all_passages[res.candidate.passage]
            own = [all_passages[i] for i in profiles[cid].own] if cid in profiles else [home]
            texts = [_without_heading(p) for p in own]
            summary = cards_out.first_sentences(res.candidate.definition or texts[0])
            related = [c for c, _ in profiles[cid].refs.most_common(6)] \
                if cid in profiles else []
            cards.append(cards_out.make_card(
                cid, res.candidate.term, unit, summary, cards_out.explanation_from(texts),
                [p.label for p in own][:3], [x.prerequisite for x in links_of.get(cid, [])],
                related[:4], aliases))
        new_cards.extend(cards)
        if cards:
            title = docs[source].title if source in docs else \
                next((p.title for p in all_passages if p.source == source), unit)
            files_out[f"{unit}.yaml"] = cards_out.unit_file_text(
                unit, title, cards, source_names.get(source, source))

    before = {str(p) for p in validate(list(known.values()))}
    problems = [p for p in validate([*known.values(), *new_cards]) if str(p) not in before]
    if problems:  # should not happen; never write cards that break the course
        report.problems += [str(p) for p in problems[:20]]
        raise CardError(f"ingested cards would not validate: {problems[0]}",
                        "report this as a bug; nothing was changed")
    report.new_concepts = [c.id for c in new_cards]

    # 8. commit: passages first (atomic), then the card files ------------------------------
    t5 = time.perf_counter()
    records = list(others)
    for i, p in enumerate(all_passages):
        own_ids = sorted(about[i])
        named = [c for c, _ in mentions[i].most_common() if c not in about[i]]
        records.append(Record(p.id, vec_of[p.id], p.text, passage_metadata(
            p, sha_of_source.get(p.source, ""), own_ids,
            named[:max(0, MAX_CONCEPTS_PER_PASSAGE - len(own_ids))])))
    if records or stored.info is not None:
        _info, report.store_changed = store.commit(records, model)
    old_ids = {r.id for r in ours}
    new_ids_all = {p.id for p in all_passages}
    report.passages_total = len(all_passages)
    report.passages_added = len(new_ids_all - old_ids)
    report.passages_removed = len(old_ids - new_ids_all)
    report.timings["store_s"] = time.perf_counter() - t5

    _write_cards(report, manifest, course_dir, state_dir, regenerate, gone, unit_of, files_out)
    if regenerate or gone or not (course_dir / "REVIEW.md").exists():
        describe = describe_evidence(all_passages, display)
        review = cards_out.review_markdown(
            course, [*ours_on_disk, *new_cards], {x.edge: x for x in links},
            report.suggestions, display, describe,
            [m for m in report.merged if m[2] != "name"])
        _write_if_changed(course_dir / "REVIEW.md", review)
        _write_if_changed(course_dir / "links.json",
                          cards_out.links_json([*report.links, *report.suggestions], describe))
    manifest.save()
    report.timings["total_s"] = time.perf_counter() - t0
    return report


def _write_cards(report: IngestReport, manifest: Manifest, course_dir: Path, state_dir: Path,
                 regenerate: set[str], gone: set[str], unit_of: dict[str, str],
                 files_out: dict[str, str]) -> None:
    """Write (or remove) the card file of each regenerated (or removed) source, never
    overwriting a file the teacher edited."""
    course_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(regenerate | gone):
        name = manifest.file_for(source) or f"{unit_of.get(source, unit_slug(source))}.yaml"
        path = course_dir / name
        text = files_out.get(name) if source not in gone else None
        entry = manifest.cards.get(name)
        ours = entry is not None
        if path.exists() and (not ours or manifest.edited(course_dir, name)):
            report.cards_kept.append(name)  # the teacher's edits (or own file) win
            if text is not None:
                cards_out.write_atomic(state_dir / "proposed" / name, text)
            continue
        if text is None:
            if path.exists():
                path.unlink()
                report.cards_removed.append(name)
            if source in gone:
                manifest.cards.pop(name, None)
            else:  # a source without new concepts: remembered so it is not redone
                manifest.cards[name] = {"source": source, "sha": ""}
            continue
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            cards_out.write_atomic(path, text)
            report.cards_written.append(name)
        manifest.cards[name] = {"source": source, "sha": cards_out.sha256_text(text)}


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        cards_out.write_atomic(path, text)


def _unique_id(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _unit_names(source_names: dict[str, str], manifest: Manifest) -> dict[str, str]:
    """A unit id per source (stable: the manifest's earlier choice wins)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name, entry in manifest.cards.items():
        src = entry.get("source")
        if src:
            out[src] = Path(name).stem
            used.add(Path(name).stem)
    for source, shown in sorted(source_names.items(), key=lambda kv: natural_key(kv[1])):
        if source not in out:
            out[source] = _unique_id(unit_slug(shown), used)
            used.add(out[source])
    return out


def _configured_cards(course_dirs: Sequence[Path], course_dir: Path) -> list[Concept]:
    """Cards of the configured course folders, without this course's own folder."""
    own = course_dir.resolve()
    files = [f for f in card_files(course_dirs)
             if not f.resolve().is_relative_to(own)]
    cards: list[Concept] = []
    for f in files:
        cards.extend(load_card_file(f))
    seen: set[str] = set()
    out = []
    for c in cards:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out


def _without_heading(p: Passage) -> str:
    """A passage's text without its slide title or heading repeated as the first line."""
    heading = p.location.heading
    text = p.text.lstrip()
    if heading and text.startswith(heading) and len(text) > len(heading) + 20:
        return text[len(heading):].lstrip(" \n:.-")
    return text


__all__ = ["FileReport", "IngestOptions", "IngestReport", "course_paths", "ingest"]

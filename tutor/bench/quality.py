"""``erica bench quality``: hit@k, recall@k and MRR of retrieval on the evaluation questions,
per language (English, Czech, Russian) and split (tune, holdout), for each candidate setup.

Candidates: the English store alone (``--models``), the English store with a cross-language
index (``--multilingual``), and the cross-language index answering every language
(``--everywhere``: would one multilingual model do for English too?).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from knowledge.build import build_concepts, load_valid_cards
from knowledge.chroma_client import open_client
from knowledge.course import CONCEPTS, load_course
from knowledge.crosslingual import MULTILINGUAL, build_multilingual, load_multilingual
from knowledge.embeddings import load_embedder
from knowledge.evaluation import evaluate, load_language_sets
from knowledge.retrieval import Retriever
from knowledge.store import VersionedCollection
from tutor.bench.report import format_table, write_results
from tutor.settings import Settings

ROUNDING = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default="minilm-l6-int8",
                   help="English-store embedding models to compare, comma-separated")
    p.add_argument("--multilingual", default="none,e5-small-q4",
                   help="cross-language index models, comma-separated ('none': without)")
    p.add_argument("--everywhere", action="store_true",
                   help="also rank English questions with the cross-language index")
    p.add_argument("--languages", default="en,cs,ru", help="question languages")


def run(settings: Settings, args: argparse.Namespace) -> int:
    sets = load_language_sets()
    languages = [lang for lang in args.languages.split(",") if lang]
    cards = load_valid_cards(settings.course_dirs)
    rows: list[dict] = []
    meta: dict = {"concepts": len(cards), "builds_s": {}}
    with tempfile.TemporaryDirectory(prefix="erica-quality-") as tmp:
        client = open_client(Path(tmp) / "chroma")
        for name in [m for m in args.models.split(",") if m]:
            embedder = load_embedder(name, settings.models_dir)
            collection = VersionedCollection(client, f"{CONCEPTS}-{name}")
            start = time.perf_counter()
            with tqdm(total=len(cards), desc=f"embed {name}", unit="card") as bar:
                build_concepts(cards, name, lambda e=embedder: e, collection,
                               progress=bar.update)
            meta["builds_s"][name] = round(time.perf_counter() - start, 1)
            course = load_course(collection)
            for ml_name in [m for m in args.multilingual.split(",") if m]:
                multilingual = None
                if ml_name != "none":
                    multilingual = _cross_index(client, cards, ml_name, settings, meta)
                setups = [(f"{name}" if multilingual is None else f"{name} + {ml_name}",
                           False)]
                if multilingual is not None and args.everywhere:
                    setups.append((f"{ml_name} for every language", True))
                for label, everywhere in setups:
                    retriever = Retriever(embedder, collection, course,
                                          multilingual=multilingual,
                                          route_all_languages=everywhere)
                    # for Czech and Russian "everywhere" is the same path as above
                    rows += _rows(label, retriever, sets, ["en"] if everywhere else languages)
    print(format_table(rows))
    write_results("quality", rows, **meta)
    return 0


def _cross_index(client, cards, ml_name: str, settings: Settings, meta: dict):
    collection = VersionedCollection(client, f"{MULTILINGUAL}-{ml_name}")
    start = time.perf_counter()
    with tqdm(total=len(cards), desc=f"cross-language {ml_name}", unit="card") as bar:
        build_multilingual(cards, ml_name, lambda: load_embedder(ml_name, settings.models_dir),
                           collection, settings.models_dir, progress=bar.update)
    meta["builds_s"][f"cross-language {ml_name}"] = round(time.perf_counter() - start, 1)
    return load_embedder(ml_name, settings.models_dir), load_multilingual(collection)


def _rows(label: str, retriever: Retriever, sets: dict, languages: list[str]) -> list[dict]:
    """Per language: the tune split, the holdout, and all questions (their weighted mean)."""
    rows = []
    for lang in languages:
        parts = {}
        for split in ("tune", "holdout"):
            chosen = [q for q in sets[lang] if q.split == split]
            parts[split] = evaluate(retriever, chosen)
        n = sum(r["questions"] for r in parts.values())
        parts["all"] = {k: sum(r[k] * r["questions"] for r in parts.values()) / n
                        for k in parts["tune"] if not k.startswith("search_")}
        parts["all"]["questions"] = n
        for split, result in parts.items():
            rows.append({"candidate": label, "language": lang, "split": split,
                         **{k: round(v, ROUNDING) for k, v in result.items()
                            if k in ("questions", "hit@1", "hit@5", "mrr", "recall@5",
                                     "search_p50_ms", "search_p95_ms")}})
    return rows

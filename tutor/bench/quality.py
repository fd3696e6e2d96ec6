"""``erica bench quality``: recall@k and MRR of retrieval on the evaluation questions."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tqdm import tqdm

from knowledge.build import build_concepts, load_valid_cards
from knowledge.chroma_client import open_client
from knowledge.course import CONCEPTS, load_course
from knowledge.embeddings import EMBEDDING_MODELS, load_embedder
from knowledge.evaluation import evaluate, load_eval_set
from knowledge.retrieval import Retriever
from knowledge.store import VersionedCollection
from tutor.bench.report import write_results
from tutor.settings import Settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=",".join(EMBEDDING_MODELS),
                   help="embedding models to compare, comma-separated")


def run(settings: Settings, args: argparse.Namespace) -> int:
    questions = load_eval_set()
    cards = load_valid_cards(settings.course_dirs)
    rows = []
    with tempfile.TemporaryDirectory(prefix="erica-quality-") as tmp:
        client = open_client(Path(tmp) / "chroma")
        for name in [m for m in args.models.split(",") if m]:
            embedder = load_embedder(name, settings.models_dir)
            collection = VersionedCollection(client, f"{CONCEPTS}-{name}")
            with tqdm(total=len(cards), desc=f"embed {name}", unit="card") as bar:
                build_concepts(cards, name, lambda e=embedder: e, collection,
                               progress=bar.update)
            retriever = Retriever(embedder, collection, load_course(collection))
            rows.append({"model": name, "concepts": len(cards),
                         **evaluate(retriever, questions)})
    write_results("quality", rows)
    return 0

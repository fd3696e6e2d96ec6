"""``erica bench retrieval``: retrieve latency at course scale and at 100k, build throughput,
and the store's HNSW recall@10 against exact search over the same vectors."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from knowledge.build import build_concepts
from knowledge.chroma_client import open_client
from knowledge.course import CONCEPTS, Course, card_metadata, load_course
from knowledge.embeddings import load_embedder
from knowledge.retrieval import Retriever, expand
from knowledge.store import Record, VersionedCollection
from knowledge.synthetic import synthetic_cards
from tutor.bench.report import format_table, median, percentile, write_results
from tutor.settings import Settings

QUESTIONS = [
    "what is a search heuristic", "how does gradient descent update a network layer",
    "explain attention over tokens", "what is entropy of a probability", "policy and reward",
    "how do kernels help a classifier", "cluster embedding vectors", "belief filter samples",
    "constraint propagation in logic", "matrix vector product in a model",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", default="3120,100000",
                   help="store sizes, comma-separated (default 3120,100000)")
    p.add_argument("--queries", type=int, default=200, help="queries per size (default 200)")
    p.add_argument("--builds", type=int, default=3,
                   help="full builds of the first size; their median is reported (default 3)")
    p.add_argument("--cross-language-only", action="store_true",
                   help="only the latency of Czech and Russian questions (cross-language index)")


def _measure(collection: VersionedCollection, embedder, n_queries: int,
             k: int = 5, depth: int = 2, cap: int = 10) -> dict[str, float]:
    """Time the stages of ``Retriever.retrieve``: embedding, ranking (ChromaDB's query plus
    the name/alias re-rank) and graph expansion."""
    retriever = Retriever(embedder, collection, load_course(collection))
    course = retriever.course
    total, emb, query, graph, recall, store_ms = [], [], [], [], [], []
    for i in range(n_queries):
        q = QUESTIONS[i % len(QUESTIONS)] + ("" if i < len(QUESTIONS) else f" {i}")
        t0 = time.perf_counter()
        vec, _ = retriever.query_vector(q)
        t1 = time.perf_counter()
        hits = retriever.rank(q, vec, k)
        t2 = time.perf_counter()
        expand(retriever.course, q, vec, hits, depth, cap)
        t3 = time.perf_counter()
        emb.append(t1 - t0)
        query.append(t2 - t1)
        graph.append(t3 - t2)
        total.append(t3 - t0)
        # the store's HNSW top 10 against the exact top 10 over every stored vector
        t4 = time.perf_counter()
        found = {cid for cid, _ in collection.query(vec, 10)}
        store_ms.append(time.perf_counter() - t4)
        exact = np.argpartition(-(course.vectors @ vec), 10)[:10]
        recall.append(len(found & {course.ids[i] for i in exact}) / 10)
    ms = 1000.0
    return {"p50_ms": median(total) * ms, "p95_ms": percentile(total, 95) * ms,
            "embed_p50_ms": median(emb) * ms, "rank_p50_ms": median(query) * ms,
            "graph_p50_ms": median(graph) * ms, "store_query_p50_ms": median(store_ms) * ms,
            "store_recall_at_10": float(np.mean(recall))}


def _build_throughput(cards, embedder, collection: VersionedCollection,
                      builds: int) -> dict[str, float]:
    """Full builds (embed, write, verify, switch), the median of ``builds`` runs, and the
    embedding alone: the rest of a build is ChromaDB's write and the verification."""
    rates = []
    for run_no in range(builds):
        with tqdm(total=len(cards), desc=f"build {len(cards)} ({run_no + 1}/{builds})",
                  unit="card") as bar:
            t0 = time.perf_counter()
            build_concepts(cards, embedder.name, lambda: embedder, collection, force=True,
                           progress=bar.update)
            rates.append(len(cards) / (time.perf_counter() - t0))
    t0 = time.perf_counter()
    embedder.encode([c.embedding_text() for c in cards])
    return {"build_concepts_per_s": median(rates), "build_min_per_s": min(rates),
            "build_max_per_s": max(rates),
            "embed_concepts_per_s": len(cards) / (time.perf_counter() - t0)}


# Czech and Russian questions for the cross-language path (knowledge/crosslingual.py).
CROSS_QUESTIONS = [
    "co je heuristika při prohledávání", "jak gradientní sestup mění váhy vrstvy sítě",
    "vysvetli attention nad tokeny", "что такое энтропия распределения",
    "политика и награда в обучении с подкреплением", "jak jádra pomáhají klasifikátoru",
    "кластеризация векторов эмбеддингов", "filtr přesvědčení a vzorky",
    "распространение ограничений в логике", "součin matice a vektoru v modelu",
]


def _measure_cross_language(size: int, settings: Settings, embedder, n_queries: int,
                            k: int = 5, depth: int = 2, cap: int = 10) -> dict[str, object]:
    """Latency of a non-English question: the e5 query embedding (the real model), the exact
    search of the in-memory index, name matching and graph expansion over ``size`` cards,
    plus the English query vector kept for passages. The index rows are the shipped course's
    real e5 vectors plus noise (search time depends on the row count, not on the texts)."""
    from knowledge.crosslingual import MultilingualIndex, VectorCache
    from knowledge.graph import build_graph

    cards = synthetic_cards(size)
    model = load_embedder(settings.multilingual_model, settings.models_dir)
    base = np.stack(list(VectorCache(settings.multilingual_model,
                                     settings.models_dir).vectors.values()))
    rng = np.random.default_rng(0)
    vecs = base[rng.integers(0, len(base), size)] + rng.normal(0, 0.02, (size, base.shape[1]))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    ids = [c.id for c in cards]
    course = Course({c.id: c for c in cards}, build_graph(cards), ids, vecs)
    index = MultilingualIndex(model.name, ids, vecs)
    retriever = Retriever(embedder, None, course, multilingual=(model, index))
    total, emb = [], []
    for i in range(n_queries):
        q = CROSS_QUESTIONS[i % len(CROSS_QUESTIONS)] + ("" if i < len(CROSS_QUESTIONS)
                                                          else f" {i}")
        t0 = time.perf_counter()
        model.encode_query(q)
        emb.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        found = retriever.search(q, k)
        expand(course, q, found.vec, found.hits, depth, cap, found.used_history,
               found.similarity)
        total.append(time.perf_counter() - t0)
    ms = 1000.0
    return {"concepts": size, "path": f"cross-language ({model.name})",
            "p50_ms": median(total) * ms, "p95_ms": percentile(total, 95) * ms,
            "e5_embed_p50_ms": median(emb) * ms, "e5_embed_p95_ms": percentile(emb, 95) * ms}


def run(settings: Settings, args: argparse.Namespace) -> int:
    embedder = load_embedder(settings.embedding_model, settings.models_dir)
    if args.cross_language_only:
        rows = [_measure_cross_language(int(s), settings, embedder, args.queries)
                for s in args.sizes.split(",") if s.strip()]
        print(format_table(rows))
        write_results("retrieval", rows, multilingual_model=settings.multilingual_model,
                      k=5, depth=2, max=10, queries=args.queries,
                      load_average=os.getloadavg()[0])
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="erica-bench-") as tmp:
        client = open_client(Path(tmp) / "chroma")
        base_vectors = None
        for size in sizes:
            cards = synthetic_cards(size)
            collection = VersionedCollection(client, f"{CONCEPTS}{size}")
            row: dict[str, object] = {"concepts": size}
            if base_vectors is None:
                row.update(_build_throughput(cards, embedder, collection, args.builds))
                row["vectors"] = "embedded"
                base_vectors = load_course(collection, verify=False).vectors
            else:
                # Embedding 100k texts takes ~10 min on 2 cores; reuse real card embeddings
                # plus noise so the index sees realistic, distinct vectors.
                rng = np.random.default_rng(0)
                idx = rng.integers(0, len(base_vectors), size)
                vecs = base_vectors[idx] + rng.normal(0, 0.05, (size, base_vectors.shape[1]))
                vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
                records = [Record(c.id, v, None, card_metadata(c))
                           for c, v in zip(cards, vecs, strict=True)]
                with tqdm(total=size, desc=f"write {size}", unit="card") as bar:
                    t0 = time.perf_counter()
                    collection.build(records, f"synthetic{size}", embedder.name,
                                     progress=bar.update)
                    row["write_concepts_per_s"] = size / (time.perf_counter() - t0)
                row["vectors"] = "real+noise"
            row.update(_measure(collection, embedder, args.queries))
            rows.append(row)
    write_results("retrieval", rows, embedding_model=embedder.name, k=5, depth=2, max=10,
                  queries=args.queries)
    return 0

"""``erica bench clip``: indexing throughput and text-query latency.

* indexing: images/s for ViT-B-32 (random weights, ``pretrained=None``: same architecture and
  cost as the real one) and for mini-CLIP; the batched pipeline (decoding in a background
  thread overlapped with encoding, torch threads 2) against a one-image-at-a-time baseline
  (decode, preprocess, encode a batch of one) in the same run;
* text-query latency (encode the text + Chroma top-10) over 1,000 and 100,000 stored vectors
  (clustered around real mini-CLIP image embeddings), p50/p95 and recall@10 against exact
  search, for the search the app runs (:func:`tutor.clip.nearest.nearest`: exact below a
  size, HNSW above) and for Chroma's HNSW alone (built with the settings every set uses).
* what the lessons show (:mod:`tutor.clip.quality`): held-out compositional zero-shot top-1,
  search precision@3 on the demo set, and the localisation rate on two-object scenes.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

QUERIES = ("red circles", "a striped blue square", "two green stars on the left", "a cat",
           "a horse", "an astronaut", "a cup of coffee", "three yellow triangles",
           "a purple cross above an orange diamond", "a rocket on the launch pad",
           "dotted circles", "a brick wall", "the moon", "checkered squares at the top")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=int, default=96,
                        help="images to index per model (default 96)")
    parser.add_argument("--baseline-images", type=int, default=32,
                        help="images for the one-at-a-time baseline (default 32)")
    parser.add_argument("--models", default="ViT-B-32,mini-clip",
                        help="comma-separated models (ViT-B-32 uses random weights)")
    parser.add_argument("--batch-size", type=int, default=32, help="encoding batch (default 32)")
    parser.add_argument("--sizes", default="1000,100000",
                        help="stored vectors for the query latency (default 1000,100000)")
    parser.add_argument("--queries", type=int, default=50, help="queries per size (default 50)")
    parser.add_argument("--parts", default="indexing,queries,quality",
                        help="comma-separated parts to run (default all three)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes for a smoke test (16 images, 500 vectors)")


def _write_images(folder: Path, n: int) -> list[Path]:
    """Realistic files to decode: drawn scenes and photos saved as 320-400 px JPEGs."""
    from tutor.clip import data

    rng = np.random.default_rng(123)
    photos = data.available_photos()
    paths = []
    for i in range(n):
        if photos and i % 4 == 3:
            image = data.photo_crop(photos[i % len(photos)], rng, 400)
        else:
            image = data.render_scene(data.random_scene(rng), 320, rng)
        path = folder / f"img_{i:05d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def _load(name: str):
    from tutor.clip.models import MINI_CLIP, load_mini_clip, load_open_clip

    return load_mini_clip() if name == MINI_CLIP else load_open_clip(name, None)


def bench_indexing(name: str, paths: list[Path], baseline_n: int, batch_size: int
                   ) -> dict[str, Any]:
    from tutor.clip.encode import Item, encode_one_at_a_time, encode_pipelined

    t0 = time.perf_counter()
    model = _load(name)
    load_s = time.perf_counter() - t0
    encode_one_at_a_time(model, paths[:2])  # warm-up
    base_paths = paths[:baseline_n]
    t0 = time.perf_counter()
    encode_one_at_a_time(model, base_paths)
    baseline = len(base_paths) / (time.perf_counter() - t0)
    items = [Item(str(i), p, {}) for i, p in enumerate(paths)]
    t0 = time.perf_counter()
    n = 0
    for good, _emb, _metas, _skipped in encode_pipelined(model, items, batch_size=batch_size):
        n += len(good)
    batched = n / (time.perf_counter() - t0)
    label = f"{name} (random weights)" if name != "mini-clip" else model.label
    return {"test": "indexing", "model": label, "images": len(paths),
            "baseline img/s": round(baseline, 2), "batched img/s": round(batched, 2),
            "ratio": round(batched / baseline, 2), "load s": round(load_s, 2)}


def _vectors(model, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors clustered around real image embeddings (not uniform noise)."""
    from tutor.clip import data

    images = [data.render_scene(data.random_scene(rng), 96, rng) for _ in range(200)]
    centres = model.embed_images(images)
    idx = rng.integers(0, len(centres), n)
    noise = rng.normal(0, 0.35 / np.sqrt(model.dim), (n, model.dim)).astype(np.float32)
    v = centres[idx] + noise
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def bench_queries(model, sizes: list[int], n_queries: int) -> list[dict[str, Any]]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from knowledge.chroma_client import HNSW_CONFIGURATION
    from tutor.bench.report import percentile
    from tutor.clip.nearest import EXACT_MAX_BYTES, nearest

    rng = np.random.default_rng(5)
    rows = []
    with tempfile.TemporaryDirectory(prefix="erica-bench-clip-") as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(
            anonymized_telemetry=False))
        for size in sizes:
            vectors = _vectors(model, size, rng)
            col = client.create_collection(f"bench-{size}", embedding_function=None,
                                           configuration=HNSW_CONFIGURATION,
                                           metadata={"dim": model.dim})
            t0 = time.perf_counter()
            for i in range(0, size, 5000):
                col.add(ids=[str(j) for j in range(i, min(size, i + 5000))],
                        embeddings=vectors[i:i + 5000])
            add_s = time.perf_counter() - t0
            texts = [QUERIES[i % len(QUERIES)] for i in range(n_queries)]
            t0 = time.perf_counter()
            nearest(col, model.embed_texts([texts[0]])[0], 10)  # reads the set's vectors once
            load_s = time.perf_counter() - t0
            for text in texts[:3]:  # warm-up
                col.query(query_embeddings=model.embed_texts([text]), n_results=10, include=[])
            total, search, encode, hnsw, asked = [], [], [], [], []
            for text in texts:
                t0 = time.perf_counter()
                q = model.embed_texts([text])[0]
                t1 = time.perf_counter()
                found = {int(id_) for id_, _ in nearest(col, q, 10)}
                t2 = time.perf_counter()
                encode.append((t1 - t0) * 1000)
                search.append((t2 - t1) * 1000)
                total.append((t2 - t0) * 1000)
                asked.append((q, found))
            # Chroma's HNSW alone (what sets too large for exact search use), in its own loop
            graph_found = []
            for q, _ in asked:
                t0 = time.perf_counter()
                got = col.query(query_embeddings=q[None, :], n_results=10, include=[])
                hnsw.append((time.perf_counter() - t0) * 1000)
                graph_found.append({int(x) for x in got["ids"][0]})
            recall, hnsw_recall = [], []
            for (q, found), graph in zip(asked, graph_found, strict=True):
                top = {int(x) for x in np.argpartition(-(vectors @ q), 10)[:10]}
                recall.append(len(found & top) / 10)
                hnsw_recall.append(len(graph & top) / 10)
            rows.append({"test": "text query", "model": model.label, "vectors": size,
                         "p50 ms": round(percentile(total, 50), 2),
                         "p95 ms": round(percentile(total, 95), 2),
                         "encode p50 ms": round(percentile(encode, 50), 2),
                         "search p50 ms": round(percentile(search, 50), 2),
                         "search": "exact" if size * model.dim * 4 <= EXACT_MAX_BYTES
                         else "hnsw",
                         "recall@10": round(float(np.mean(recall)), 3),
                         "hnsw p50 ms": round(percentile(hnsw, 50), 2),
                         "hnsw recall@10": round(float(np.mean(hnsw_recall)), 3),
                         "vectors load s": round(load_s, 2), "add s": round(add_s, 1)})
            client.delete_collection(f"bench-{size}")
    return rows


def bench_quality(model, quick: bool) -> list[dict[str, Any]]:
    from tutor.clip import quality

    t0 = time.perf_counter()
    zs = quality.zero_shot(model, 36 if quick else 360)
    t1 = time.perf_counter()
    search = quality.search_precision(model)
    t2 = time.perf_counter()
    loc = quality.localisation(model, 6 if quick else 60)
    t3 = time.perf_counter()
    return [
        {"test": "zero-shot held-out pairs", "model": model.label,
         "top-1": round(zs["held_out_top1"], 3), "seen top-1": round(zs["seen_top1"], 3),
         "shape acc": round(zs["held_out_shape_acc"], 3),
         "colour acc": round(zs["held_out_colour_acc"], 3),
         "images": zs["images_per_split"], "chance": round(zs["chance"], 3),
         "s": round(t1 - t0, 1)},
        {"test": "search precision@3 (demo set)", "model": model.label,
         "precision": round(search["precision"], 3), "queries": search["queries"],
         "images": search["images"],
         "worst": "; ".join(f"{q} {p:.2f}" for q, p in search["worst"]),
         "s": round(t2 - t1, 1)},
        {"test": "localisation (two-object scenes)", "model": model.label,
         "rate": round(loc["rate"], 3), "same colour": round(loc["rate same colour"], 3),
         "same shape": round(loc["rate same shape"], 3),
         "different": round(loc["rate different"], 3), "phrases": loc["phrases"],
         "s": round(t3 - t2, 1)},
    ]


def run(settings: Any, args: argparse.Namespace) -> int:
    import torch

    from knowledge.common.errors import InvalidInputError
    from tutor.bench.report import write_results
    from tutor.clip.models import TORCH_THREADS, load_model

    torch.set_num_threads(TORCH_THREADS)
    n_images, n_base = args.images, args.baseline_images
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    if args.quick:
        n_images, n_base, sizes = 16, 8, [500]
    if n_images < 2 or n_base < 1 or not sizes or min(sizes) < 10:
        raise InvalidInputError("benchmark sizes too small",
                                "use --images >= 2 and --sizes >= 10")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    parts = {p.strip() for p in str(args.parts).split(",") if p.strip()}
    if not parts or parts - {"indexing", "queries", "quality"}:
        raise InvalidInputError(f"unknown benchmark parts {args.parts!r}",
                                "use --parts with indexing, queries and/or quality")
    rows = []
    if "indexing" in parts:
        with tempfile.TemporaryDirectory(prefix="erica-bench-img-") as tmp:
            paths = _write_images(Path(tmp), n_images)
            for name in models:
                log.info("indexing benchmark: %s", name)
                rows.append(bench_indexing(name, paths, min(n_base, n_images),
                                           args.batch_size))
    query_model = load_model(settings) if settings is not None else _load("mini-clip")
    if "queries" in parts:
        rows.extend(bench_queries(query_model, sizes, max(5, args.queries if not args.quick
                                                          else 10)))
    if "quality" in parts:
        rows.extend(bench_quality(query_model, args.quick))
    write_results("clip", rows, torch_threads=torch.get_num_threads(),
                  batch_size=args.batch_size,
                  note="2 CPU cores shared with other processes: figures are noisy")
    return 0

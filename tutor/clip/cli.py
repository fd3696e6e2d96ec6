"""``erica clip index|search|label|similarity|localize|train|get-weights|info``.

Every command names the active model (on stdout, or on stderr with ``--json`` so the JSON
stays parseable). Imports of torch/open_clip happen inside the handlers: ``erica --help``
stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from knowledge.common.errors import InvalidInputError
from tutor.settings import Settings

log = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    clip = sub.add_parser(
        "clip", help="the CLIP tool: index images, search, zero-shot labels, train mini-CLIP",
        description="CLIP: images and text in one vector space. The active model comes from "
        "ERICA_CLIP_MODEL (default mini-clip, shipped) and ERICA_CLIP_PRETRAINED.")
    csub = clip.add_subparsers(dest="clip_command", metavar="ACTION", required=True)

    p = csub.add_parser("index", help="index a folder, an image or a video into an image set",
                        description="Embed images into ChromaDB (one collection per set and "
                        "model). Incremental: unchanged files are skipped, removed ones "
                        "dropped, unreadable ones skipped with a reason.")
    p.add_argument("path", nargs="?", type=Path,
                   help="a folder of images, an image file, or a video file (omit with --demo)")
    p.add_argument("--set", dest="set_name", default=None,
                   help="image-set name (default: the folder's name; 'demo' with --demo)")
    p.add_argument("--demo", action="store_true",
                   help="write and index the demo set (drawn scenes + scikit-image photos)")
    p.add_argument("--every", type=float, default=1.0,
                   help="for videos: seconds between sampled frames (default 1)")
    p.add_argument("--no-recursive", action="store_true", help="do not descend into sub-folders")
    p.add_argument("--rebuild", action="store_true", help="drop the set first, then index")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_index)

    p = csub.add_parser("search", help="text -> image (or image -> image) search in a set")
    p.add_argument("text", nargs="?", help="what to find, e.g. \"red circles\"")
    p.add_argument("--image", type=Path, help="search with this image instead of a text")
    p.add_argument("--set", dest="set_name", default="demo",
                   help="image set (default demo, created on first use)")
    p.add_argument("-k", "--k", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true",
                   help='print [{"rank","path","score",...}] sorted by score')
    p.set_defaults(func=cmd_search)

    p = csub.add_parser("label", help="zero-shot labels of an image: softmax over prompts")
    p.add_argument("image", type=Path, help="the image file")
    p.add_argument("--labels", required=True, help='comma-separated, e.g. "cat, dog, car"')
    p.add_argument("--templates", default=None,
                   help="template set: clip-80 (CLIP paper ensemble), clip-18, photo, raw, "
                   "scenes (default: scenes for mini-clip, clip-80 otherwise)")
    p.add_argument("--top", type=int, default=10, help="labels shown in text mode (default 10)")
    p.add_argument("--json", action="store_true", help='print [{"label","prob"}] sorted')
    p.set_defaults(func=cmd_label)

    p = csub.add_parser("similarity", help="the N images x N captions similarity matrix")
    p.add_argument("--images", nargs="+", type=Path, help="image files (default: demo pairs)")
    p.add_argument("--captions", nargs="+", help="captions, in the order of the images")
    p.add_argument("-n", type=int, default=6, help="demo pairs to use (default 6)")
    p.add_argument("--json", action="store_true", help="print images, captions and matrix")
    p.set_defaults(func=cmd_similarity)

    p = csub.add_parser("localize", help="where in an image a phrase scores highest")
    p.add_argument("image", type=Path)
    p.add_argument("phrase")
    p.add_argument("--out", type=Path, help="write the heatmap overlay as a PNG")
    p.add_argument("--patch", type=float, default=0.4, help="patch side / shorter image side")
    p.add_argument("--json", action="store_true", help="print the best box and patch scores")
    p.set_defaults(func=cmd_localize)

    p = csub.add_parser("train", help="train a mini-CLIP (the shipped weights' recipe)",
                        description="Contrastive training (open_clip ClipLoss, learned "
                        "temperature) on drawn scenes and scikit-image photos; reports "
                        "zero-shot top-1 on held-out colour-shape pairs.")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps (default 600)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 7)")
    p.add_argument("--batch-size", type=int, default=None, help="pairs per batch (default 128)")
    p.add_argument("--eval-images", type=int, default=None,
                   help="images per split for the zero-shot test (default 360)")
    p.add_argument("--out", type=Path, default=None,
                   help="weights file (.safetensors; default DATA_DIR/models/mini-clip-"
                   "<seed>-<steps>.safetensors)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_train)

    p = csub.add_parser("get-weights", help="download pretrained open_clip weights (online)",
                        description="Fetch pretrained weights into the Hugging Face cache "
                        "(progress bar). The one command that goes online.")
    p.add_argument("--model", default=None, help="open_clip model name (default ViT-B-32 or "
                   "ERICA_CLIP_MODEL)")
    p.add_argument("--pretrained", default=None,
                   help="pretrained tag (default laion2b_s34b_b79k or ERICA_CLIP_PRETRAINED)")
    p.set_defaults(func=cmd_get_weights)

    p = csub.add_parser("info", help="the active model, known models, and the image sets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)


# --------------------------------------------------------------------------- helpers


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _show_model(model, as_json: bool) -> None:
    line = f"model: {model.label}"
    if as_json:
        sys.stderr.write(line + "\n")
    else:
        _out(line)


def _model(settings: Settings):
    from tutor.clip.models import load_model

    return load_model(settings)


# --------------------------------------------------------------------------- handlers


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import images, index, sets, video

    model = _model(settings)
    _show_model(model, args.json)
    if args.demo:
        set_name = args.set_name or sets.DEMO_SET
        if set_name != sets.DEMO_SET:
            raise InvalidInputError("--demo always fills the set 'demo'", "drop --set")
        if args.rebuild:
            sets.delete_set(settings, model, set_name)
        report = index.ensure_demo_set(settings, model, progress=True)
        if report is None:
            collection = sets.get_collection(settings, model, set_name)
            report = index.IndexReport(set_name, collection.name, model.label,
                                       unchanged=collection.count(), total=collection.count())
    else:
        if args.path is None:
            raise InvalidInputError("no path given", "erica clip index PATH --set NAME "
                                    "(or erica clip index --demo)")
        path = args.path.expanduser()
        set_name = args.set_name or _default_set_name(path)
        sets.check_set_name(set_name)
        if args.rebuild:
            sets.delete_set(settings, model, set_name)
        if path.is_file() and path.suffix.lower() in images.VIDEO_SUFFIXES:
            report = video.index_video(settings, model, set_name, path, every_s=args.every)
        elif path.is_file():
            report = index.index_files(settings, model, set_name, [path])
        else:
            report = index.index_folder(settings, model, set_name, path,
                                        recursive=not args.no_recursive)
    if args.json:
        _out(json.dumps({"set": report.set_name, "collection": report.collection,
                         "model": report.model, "added": report.added,
                         "updated": report.updated, "unchanged": report.unchanged,
                         "removed": report.removed, "total": report.total,
                         "skipped": [{"path": p, "reason": r} for p, r in report.skipped],
                         "images_per_s": round(report.images_per_s, 2)}, indent=1))
    else:
        _out(report.summary())
        for path, reason in report.skipped:
            _out(f"  skipped {path}: {reason}")
        for path, note in report.notes:
            _out(f"  note {Path(path).name}: {note}")
    return 0 if report.total > 0 else 1


def _default_set_name(path: Path) -> str:
    import re

    base = path.stem if path.is_file() else path.resolve().name
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-_") or "images"
    return name[:64].strip("-_") or "images"


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import search

    if bool(args.text) == bool(args.image):
        raise InvalidInputError("give either a search text or --image (one of them)",
                                'e.g. erica clip search "red circles" --set demo')
    model = _model(settings)
    _show_model(model, args.json)
    if args.image:
        hits = search.search_image(settings, model, args.set_name, args.image, k=args.k)
    else:
        hits = search.search_text(settings, model, args.set_name, args.text, k=args.k)
    if hits.gone:
        sys.stderr.write(f"warning: {search.gone_message(args.set_name, hits.gone)}\n")
    if args.json:
        _out(json.dumps([h.to_json() for h in hits], indent=1))
        return 0
    _out(f"set: {args.set_name}  query: {args.text or args.image}")
    for h in hits:
        extra = f"  t={search.format_timestamp(h.timestamp)}" if h.timestamp is not None else ""
        caption = f"  ({h.caption})" if h.caption else ""
        _out(f"{h.rank:3d}. {h.score:.4f}  {h.path}{extra}{caption}")
    return 0


def cmd_label(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import images, zeroshot

    labels = zeroshot.parse_labels(args.labels)  # fail on bad labels before loading a model
    image = images.decode_file(args.image).image
    model = _model(settings)
    _show_model(model, args.json)
    result = zeroshot.label_image(model, image, labels, args.templates)
    for note in result.notes:
        sys.stderr.write(f"note: {note}\n")
    if args.json:
        _out(json.dumps(result.to_json(), indent=1))
        return 0
    _out(f"templates: {result.template_set} ({result.templates} per label)")
    for label, prob in result.labels[: max(1, args.top)]:
        bar = "#" * int(round(prob * 40))
        _out(f"{prob:7.2%}  {label:<30} {bar}")
    if len(result.labels) > args.top:
        _out(f"... {len(result.labels) - args.top} more labels (--top N or --json)")
    return 0


def cmd_similarity(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import similarity

    model = _model(settings)
    _show_model(model, args.json)
    if args.images:
        captions = args.captions or []
        if len(captions) != len(args.images):
            raise InvalidInputError(f"{len(args.images)} images but {len(captions)} captions",
                                    "give one caption per image (--captions A B C)")
        result = similarity.similarity_matrix(model, list(args.images), captions)
    else:
        paths, captions = similarity.demo_pairs(settings, max(2, min(args.n, 12)))
        result = similarity.similarity_matrix(model, paths, captions)
    if args.json:
        _out(json.dumps(result.to_json(), indent=1))
        return 0
    _out(result.to_text())
    _out(f"diagonal is the row maximum in {result.diagonal_hits}/{len(result.images)} rows "
         "([x] = an image with its own caption)")
    return 0


def cmd_localize(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import images, localize

    image = images.decode_file(args.image).image
    model = _model(settings)
    _show_model(model, args.json)
    result = localize.localize(model, image, args.phrase, patch_fraction=args.patch)
    if args.out:
        localize.overlay(result).save(args.out)
    if args.json:
        _out(json.dumps({"phrase": result.phrase, "best_box": list(result.best_box),
                         "image_size": list(result.image.size),
                         "patches": [{"box": list(b), "score": round(float(s), 4)}
                                     for b, s in zip(result.boxes, result.scores,
                                                     strict=True)]}, indent=1))
        return 0
    x0, y0, x1, y1 = result.best_box
    _out(f"best patch for {result.phrase!r}: x {x0}-{x1}, y {y0}-{y1} of "
         f"{result.image.size[0]}x{result.image.size[1]} (cosine "
         f"{float(result.scores.max()):.3f}; {len(result.boxes)} patches)")
    if args.out:
        _out(f"heatmap: {args.out}")
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import train

    config = train.TrainConfig()
    if args.steps is not None:
        if args.steps < 1:
            raise InvalidInputError("--steps must be at least 1", "e.g. --steps 300")
        config.steps = args.steps
    if args.seed is not None:
        config.seed = args.seed
    if args.batch_size is not None:
        if not 2 <= args.batch_size <= 1024:
            raise InvalidInputError("--batch-size must be 2..1024", "e.g. --batch-size 128")
        config.batch_size = args.batch_size
    if args.eval_images is not None:
        if not 6 <= args.eval_images <= 5000:
            raise InvalidInputError("--eval-images must be 6..5000", "e.g. --eval-images 360")
        config.eval_images = args.eval_images
    out = args.out or (Path(settings.models_dir) /
                       f"mini-clip-{config.seed}-{config.steps}.safetensors")
    if out.suffix != ".safetensors":
        raise InvalidInputError("--out must end in .safetensors", "e.g. --out my-clip.safetensors")
    sys.stderr.write(f"model: mini-clip (training: {config.steps} steps, batch "
                     f"{config.batch_size}, seed {config.seed})\n")
    trainer, report = train.train(config)
    meta = train.save_weights(trainer, report, out)
    summary = {"weights": str(out), "bytes": meta["bytes"], "sha256": meta["sha256"],
               "steps": meta["steps"], "train_seconds": report["train_seconds"],
               "final_loss": round(report["final_loss"], 4),
               "held_out_top1": round(report["held_out_top1"], 4),
               "seen_top1": round(report["seen_top1"], 4),
               "chance": round(report["chance"], 4),
               "temperature": round(1.0 / report["logit_scale"], 4)}
    if args.json:
        _out(json.dumps(summary, indent=1))
    else:
        for key, value in summary.items():
            _out(f"{key}: {value}")
        _out(f"use it: ERICA_CLIP_MODEL=mini-clip ERICA_CLIP_PRETRAINED={out}")
    return 0


def cmd_get_weights(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import models

    name = args.model or (settings.clip_model if settings.clip_model != models.MINI_CLIP
                          else "ViT-B-32")
    tag = args.pretrained
    if tag is None:
        configured = settings.clip_pretrained
        default = models.REGISTRY[name].default_pretrained if name in models.REGISTRY else None
        tag = configured if configured and not models._looks_like_path(configured) and \
            name == settings.clip_model else (default or configured)
    sys.stderr.write(f"model: {name} / {tag}\n")
    path, downloaded = models.get_weights(name, tag)
    _out(("downloaded" if downloaded else "already in the Hugging Face cache") + f": {path}")
    hint = "" if settings.clip_model == name else f"ERICA_CLIP_MODEL={name} "
    _out(f"use it: {hint}ERICA_CLIP_PRETRAINED={tag}".rstrip())
    return 0


def cmd_info(args: argparse.Namespace, settings: Settings) -> int:
    from tutor.clip import models, sets

    info: dict = {"active": {"model": settings.clip_model,
                             "pretrained": settings.clip_pretrained
                             if settings.clip_model != models.MINI_CLIP else "shipped"},
                  "models": [{"name": m.name, "source": m.source,
                              "pretrained": m.default_pretrained, "about": m.description}
                             for m in models.REGISTRY.values()]}
    meta = models.read_sidecar(models.MINI_CLIP_WEIGHTS)
    if meta:
        info["mini_clip"] = {k: meta.get(k) for k in ("sha256", "bytes", "steps", "seed",
                                                       "train_seconds", "held_out_top1",
                                                       "chance")}
        info["mini_clip"]["seen_top1"] = meta.get("zero_shot", {}).get("seen_top1")
    try:
        model = _model(settings)
        info["active"]["label"] = model.label
        info["sets"] = [{"name": s.name, "items": s.count, "kind": s.kind}
                        for s in sets.list_sets(settings, model)]
    except Exception as exc:  # noqa: BLE001 - info still shows what it can
        info["active"]["error"] = str(getattr(exc, "cause", exc))
        info["sets"] = []
    if args.json:
        _out(json.dumps(info, indent=1))
        return 0
    active = info["active"]
    _out(f"model: {active.get('label') or active['model']}"
         + (f"  (NOT LOADED: {active['error']})" if active.get("error") else ""))
    if "mini_clip" in info:
        mc = info["mini_clip"]
        line = (f"mini-clip weights: {mc['bytes'] or 0:,} bytes, sha256 "
                f"{str(mc['sha256'])[:16]}..., {mc['steps']} steps, seed {mc['seed']}")
        if mc.get("held_out_top1") is not None and mc.get("chance"):
            line += (f"; held-out zero-shot top-1 {mc['held_out_top1']:.1%} "
                     f"(chance {mc['chance']:.1%})")
        _out(line)
    _out("models:")
    for m in info["models"]:
        _out(f"  {m['name']:<20} {m['source']:<9} {m['about']}")
    _out("image sets:" + ("" if info["sets"] else " (none yet: erica clip index --demo)"))
    for s in info["sets"]:
        _out(f"  {s['name']:<20} {s['items']:>6} items ({s['kind']})")
    return 0

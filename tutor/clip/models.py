"""CLIP models: a registry of configs as data, one factory, and the weights fetcher.

Two sources, both loaded through open_clip:

* ``mini-clip``: Erica's own small CLIP (config ``weights/mini-clip.json``, registered with
  ``open_clip.add_model_config``), trained by :mod:`tutor.clip.train`; the weights ship as
  safetensors in ``weights/`` with a JSON sidecar and are loaded with safetensors only.
  ``clip_pretrained`` may name another ``.safetensors`` file trained with ``erica clip train``.
* any open_clip model (``ViT-B-32`` ...) with a pretrained tag (fetched into the Hugging Face
  cache by ``erica clip get-weights``) or a local weights file (``clip_pretrained=/path``).

Nothing here downloads at load time: with the weights absent, :class:`ModelError` names the
two ways to get them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.common.errors import InvalidInputError, ModelError
from knowledge.common.hashing import sha256_file

log = logging.getLogger(__name__)

MINI_CLIP = "mini-clip"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MINI_CLIP_CONFIG = WEIGHTS_DIR / "mini-clip.json"
MINI_CLIP_WEIGHTS = WEIGHTS_DIR / "mini-clip.safetensors"
TORCH_THREADS = 2
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


@dataclass(frozen=True)
class ModelInfo:
    """A model Erica knows by name (the registry is data: see :data:`REGISTRY`)."""

    name: str
    source: str  # "erica" (shipped, trained here) | "open_clip" (pretrained weights needed)
    default_pretrained: str | None
    description: str


REGISTRY: dict[str, ModelInfo] = {
    MINI_CLIP: ModelInfo(
        MINI_CLIP, "erica", None,
        "Erica's own mini-CLIP: a small ResNet image tower + text transformer trained here on "
        "drawn scenes and scikit-image photos (offline default; knows shapes, colours, "
        "textures, positions)"),
    "ViT-B-32": ModelInfo(
        "ViT-B-32", "open_clip", "laion2b_s34b_b79k",
        "OpenCLIP ViT-B/32 trained on LAION-2B (needs `erica clip get-weights` once)"),
    "ViT-B-32-quickgelu": ModelInfo(
        "ViT-B-32-quickgelu", "open_clip", "openai",
        "OpenAI's CLIP ViT-B/32 (needs `erica clip get-weights` once)"),
    "ViT-B-16": ModelInfo(
        "ViT-B-16", "open_clip", "laion2b_s34b_b88k",
        "OpenCLIP ViT-B/16 trained on LAION-2B (slower, more accurate)"),
}

_register_lock = threading.Lock()
_registered = False
_cache: dict[tuple, ClipModel] = {}
_cache_lock = threading.Lock()


def register_configs() -> None:
    """Register the mini-CLIP config with open_clip (idempotent)."""
    global _registered
    with _register_lock:
        if _registered:
            return
        import open_clip

        open_clip.add_model_config(MINI_CLIP_CONFIG)
        _registered = True


def mini_clip_config() -> dict[str, Any]:
    return json.loads(MINI_CLIP_CONFIG.read_text(encoding="utf-8"))



def sidecar_path(weights: Path) -> Path:
    """``x.safetensors`` -> ``x.meta.json``."""
    return weights.with_name(weights.name.removesuffix(".safetensors") + ".meta.json")


def read_sidecar(weights: Path) -> dict[str, Any]:
    path = sidecar_path(weights)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"the weights' sidecar {path} cannot be read: {exc}",
                         "retrain with `python scripts/train_mini_clip.py` or reinstall Erica"
                         ) from exc


@contextlib.contextmanager
def _quiet_open_clip() -> Iterator[None]:
    """open_clip logs "No pretrained weights loaded" on the root logger: hide that one line."""

    class _Filter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "No pretrained weights loaded" not in record.getMessage()

    root = logging.getLogger()
    flt = _Filter()
    root.addFilter(flt)
    handler_filters = [(h, flt) for h in root.handlers]
    for h, f in handler_filters:
        h.addFilter(f)
    try:
        yield
    finally:
        root.removeFilter(flt)
        for h, f in handler_filters:
            h.removeFilter(f)


def _set_threads() -> None:
    import torch

    if torch.get_num_threads() != TORCH_THREADS:
        torch.set_num_threads(TORCH_THREADS)


@dataclass
class ClipModel:
    """A loaded CLIP model with its preprocessing and tokenizer.

    ``embed_*`` return L2-normalised float32 numpy arrays, so a dot product is a cosine.
    """

    name: str
    pretrained: str  # tag, file path, "random" or the shipped file
    source: str
    model: Any
    preprocess: Any
    tokenizer: Any
    dim: int
    image_size: int
    logit_scale: float
    fingerprint: str
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def label(self) -> str:
        """What the UI and the CLI show as "the active model"."""
        if self.source == "erica":
            digest = self.fingerprint.rsplit(":", 1)[-1]
            return f"{self.name} (Erica's own, sha256 {digest[:12]})"
        return f"{self.name} / {self.pretrained}"

    def encode_image_tensors(self, batch: Any) -> np.ndarray:
        import torch

        with self.lock, torch.inference_mode():
            features = self.model.encode_image(batch)
            features = torch.nn.functional.normalize(features.float(), dim=-1)
        return features.numpy().astype(np.float32)

    def preprocess_images(self, images: Sequence[Any]) -> Any:
        import torch

        return torch.stack([self.preprocess(im) for im in images])

    def embed_images(self, images: Sequence[Any], batch_size: int = 32) -> np.ndarray:
        """PIL images (RGB) -> (n, dim) unit vectors."""
        out = [self.encode_image_tensors(self.preprocess_images(images[i:i + batch_size]))
               for i in range(0, len(images), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def embed_texts(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Texts -> (n, dim) unit vectors."""
        import torch

        chunks = []
        for i in range(0, len(texts), batch_size):
            tokens = self.tokenizer(list(texts[i:i + batch_size]))
            with self.lock, torch.inference_mode():
                features = self.model.encode_text(tokens)
                features = torch.nn.functional.normalize(features.float(), dim=-1)
            chunks.append(features.numpy().astype(np.float32))
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)


def _wrap(name: str, pretrained: str, source: str, model: Any, preprocess: Any,
          fingerprint: str, meta: dict | None = None) -> ClipModel:
    import open_clip

    model.eval()
    try:
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as exc:  # HF tokenizers need files from the hub
        raise ModelError(f"the tokenizer of {name} cannot be loaded offline ({exc})",
                         "use a model with open_clip's built-in tokenizer, e.g. ViT-B-32 "
                         "or mini-clip") from exc
    dim = int(model.text_projection.shape[1]) if getattr(model, "text_projection", None) \
        is not None else int(model.visual.output_dim)
    image_size = model.visual.image_size
    image_size = int(image_size[0] if isinstance(image_size, tuple | list) else image_size)
    info = REGISTRY.get(name)
    return ClipModel(
        name=name, pretrained=pretrained, source=source, model=model, preprocess=preprocess,
        tokenizer=tokenizer, dim=dim, image_size=image_size,
        logit_scale=float(model.logit_scale.exp().item()), fingerprint=fingerprint,
        description=info.description if info else f"open_clip {name}", meta=meta or {})


def _looks_like_path(value: str) -> bool:
    return os.sep in value or value.endswith(WEIGHT_SUFFIXES) or value.startswith((".", "~"))


def load_mini_clip(weights: Path | None = None, *, verify: bool = True) -> ClipModel:
    """Erica's mini-CLIP from a safetensors file (the shipped one by default)."""
    import open_clip
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    _set_threads()
    register_configs()
    weights = Path(weights) if weights else MINI_CLIP_WEIGHTS
    if weights.suffix != ".safetensors":
        raise ModelError(f"mini-clip weights must be a .safetensors file, got {weights}",
                         "train one with `erica clip train` (writes safetensors) or unset "
                         "ERICA_CLIP_PRETRAINED to use the shipped weights")
    if not weights.is_file():
        raise ModelError(f"the mini-clip weights {weights} are missing",
                         "reinstall Erica, or recreate them with "
                         "`python scripts/train_mini_clip.py` (about 45 minutes on 2 busy "
                         "CPU cores)")
    meta = read_sidecar(weights)
    digest = sha256_file(weights)
    if verify and meta.get("sha256") and meta["sha256"] != digest:
        raise ModelError(f"the mini-clip weights {weights} are damaged (sha256 {digest[:12]} "
                         f"does not match the sidecar's {meta['sha256'][:12]})",
                         "reinstall Erica or retrain with `python scripts/train_mini_clip.py`")
    with _quiet_open_clip():
        model, _, preprocess = open_clip.create_model_and_transforms(MINI_CLIP, pretrained=None)
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"the mini-clip weights {weights} cannot be read ({exc})",
                         "reinstall Erica or retrain with `python scripts/train_mini_clip.py`"
                         ) from exc
    state = {k: v.to(torch.float32) for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{weights} does not fit the mini-clip config ({str(exc)[:300]})",
                         "use weights trained with this Erica version (`erica clip train`)"
                         ) from exc
    return _wrap(MINI_CLIP, str(weights), "erica", model, preprocess,
                 f"{MINI_CLIP}:{digest}", meta)


def missing_weights_error(name: str, tag: str, detail: str = "") -> ModelError:
    from huggingface_hub import constants

    return ModelError(
        f"the pretrained weights {name} / {tag} are not on this machine "
        f"(Hugging Face cache: {constants.HF_HUB_CACHE}) and Erica does not download at run "
        f"time{': ' + detail if detail else ''}",
        f"either run `erica clip get-weights --model {name} --pretrained {tag}` once while "
        "online, or point ERICA_CLIP_PRETRAINED (clip_pretrained in the settings file) at a "
        "local weights file (.safetensors/.bin); ERICA_CLIP_MODEL=mini-clip works offline")


def load_open_clip(name: str, pretrained: str | None) -> ClipModel:
    """An open_clip model: ``pretrained`` is a tag, a local file, or None for random weights."""
    import open_clip

    _set_threads()
    register_configs()
    if name not in open_clip.list_models():
        raise InvalidInputError(f"unknown CLIP model {name!r}",
                                f"use mini-clip or an open_clip name such as "
                                f"{', '.join(k for k in REGISTRY if k != MINI_CLIP)}")
    fingerprint = f"{name}:random"
    if pretrained:
        if _looks_like_path(pretrained) or Path(pretrained).expanduser().is_file():
            path = Path(pretrained).expanduser()
            if not path.is_file():
                raise ModelError(f"the weights file {path} does not exist",
                                 "fix ERICA_CLIP_PRETRAINED (clip_pretrained) or fetch the "
                                 f"weights with `erica clip get-weights --model {name}`")
            pretrained = str(path)
            stat = path.stat()
            fingerprint = f"{name}:{path.name}:{stat.st_size}:{int(stat.st_mtime)}"
        else:
            if not open_clip.get_pretrained_cfg(name, pretrained):
                tags = open_clip.list_pretrained_tags_by_model(name)
                raise InvalidInputError(
                    f"{pretrained!r} is not a pretrained tag of {name}",
                    f"use one of: {', '.join(tags) or '(none)'} or a weights file path")
            fingerprint = f"{name}:{pretrained}"
    try:
        with _quiet_open_clip():
            model, _, preprocess = open_clip.create_model_and_transforms(
                name, pretrained=pretrained or None)
    except RuntimeError as exc:
        if "Failed to download" in str(exc):
            raise missing_weights_error(name, str(pretrained)) from exc
        raise ModelError(f"{name} / {pretrained} cannot be loaded ({str(exc)[:300]})",
                         "check that the weights file belongs to this model "
                         f"(`erica clip get-weights --model {name}` fetches the right one)"
                         ) from exc
    except Exception as exc:  # noqa: BLE001 - torch.load/safetensors raise many types
        raise ModelError(f"{name} / {pretrained} cannot be loaded ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300] if str(exc) else ''})",
                         "give a .safetensors file, or a weights-only torch state_dict "
                         "(.bin/.pt), that belongs to this model; or fetch the right one with "
                         f"`erica clip get-weights --model {name}`") from exc
    return _wrap(name, pretrained or "random", "open_clip", model, preprocess, fingerprint)


def load_model(settings: Any = None, name: str | None = None,
               pretrained: str | None = None) -> ClipModel:
    """The active model (settings ``clip_model`` / ``clip_pretrained``), loaded once.

    For ``mini-clip``, ``clip_pretrained`` counts only when it names a ``.safetensors`` file
    (weights from ``erica clip train``); otherwise the shipped weights are used.
    """
    name = name or (settings.clip_model if settings is not None else MINI_CLIP)
    if pretrained is None and settings is not None:
        pretrained = settings.clip_pretrained
    if name == MINI_CLIP:
        weights = Path(pretrained).expanduser() if pretrained and pretrained.endswith(
            ".safetensors") else MINI_CLIP_WEIGHTS
        key: tuple = (name, str(weights))
    else:
        pretrained = pretrained or (REGISTRY[name].default_pretrained if name in REGISTRY
                                    else None)
        if not pretrained:
            raise InvalidInputError(f"no pretrained weights named for {name}",
                                    "set ERICA_CLIP_PRETRAINED to a tag or a weights file")
        key = (name, pretrained)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        model = load_mini_clip(weights) if name == MINI_CLIP else load_open_clip(name,
                                                                                  pretrained)
        _cache[key] = model
        log.info("CLIP model loaded: %s", model.label)
        return model


# --------------------------------------------------------------------------- get-weights


def weights_candidates(name: str, tag: str) -> tuple[str, list[str]]:
    """(Hugging Face repo id, file names open_clip looks for, in its order of preference)."""
    import open_clip
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    cfg = open_clip.get_pretrained_cfg(name, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(name)
        raise InvalidInputError(f"{tag!r} is not a pretrained tag of {name}",
                                f"use one of: {', '.join(tags) or '(none)'}")
    hub = cfg.get("hf_hub", "")
    if not hub:
        raise InvalidInputError(f"{name} / {tag} is not hosted on the Hugging Face hub",
                                "download its weights file by hand and set "
                                "ERICA_CLIP_PRETRAINED to its path")
    # open_clip's convention: "org/repo/" (default file names) or "org/repo/file.bin"
    repo_id, filename = (hub[:-1], "") if hub.endswith("/") else os.path.split(hub)
    if filename:
        names = [filename]
        if filename.endswith((".bin", ".pth")):
            names.insert(0, filename[:-4] + ".safetensors")
    else:
        names = [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
    return repo_id, names


def find_cached_weights(name: str, tag: str) -> Path | None:
    """The weights file in the Hugging Face cache, if present (never goes online)."""
    from huggingface_hub import hf_hub_download

    repo_id, names = weights_candidates(name, tag)
    for filename in names:
        try:
            return Path(hf_hub_download(repo_id, filename, local_files_only=True))
        except Exception:  # noqa: BLE001 - "not in the cache" comes as several error types
            continue
    return None


def _check_reachable(endpoint: str, name: str, tag: str, repo_id: str, filename: str) -> None:
    """One quick request first: huggingface_hub retries a dead network for ~25 s per file."""
    import httpx

    try:
        httpx.head(endpoint, timeout=10.0, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise ModelError(
            f"could not download {name} / {tag}: {endpoint} cannot be reached "
            f"({type(exc).__name__}: {exc})",
            "check the internet connection (or HF_ENDPOINT / a proxy), or download "
            f"{filename} from https://huggingface.co/{repo_id} on another machine and set "
            "ERICA_CLIP_PRETRAINED to its path") from exc


def get_weights(name: str, tag: str) -> tuple[Path, bool]:
    """Fetch ``name``/``tag`` into the Hugging Face cache (tqdm progress on stderr).

    Returns (path, downloaded). The one place where Erica goes online, on explicit request:
    it lifts ``HF_HUB_OFFLINE`` for this call only.
    """
    if name == MINI_CLIP:
        raise InvalidInputError("mini-clip ships with Erica: there is nothing to download",
                                "use --model ViT-B-32 (or another open_clip name)")
    cached = find_cached_weights(name, tag)
    if cached is not None:
        return cached, False
    from huggingface_hub import constants, hf_hub_download

    repo_id, names = weights_candidates(name, tag)
    _check_reachable(constants.ENDPOINT, name, tag, repo_id, names[0])
    errors = []
    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        for filename in names:
            try:
                return Path(hf_hub_download(repo_id, filename)), True
            except Exception as exc:  # noqa: BLE001 - network, 404, auth: all reported below
                errors.append(f"{filename}: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        constants.HF_HUB_OFFLINE = previous
    raise ModelError(
        f"could not download {name} / {tag} from huggingface.co/{repo_id} "
        f"({'; '.join(errors)})",
        "check the internet connection (or HF_ENDPOINT / a proxy), or download "
        f"{names[0]} from https://huggingface.co/{repo_id} by hand and set "
        "ERICA_CLIP_PRETRAINED to its path")

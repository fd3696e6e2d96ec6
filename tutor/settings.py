"""The one settings object: defaults, then a TOML file, then ``ERICA_*`` environment variables.

The TOML file is ``$ERICA_CONFIG`` if set, else ``./erica.toml``, else
``~/.config/erica/config.toml``. Keys are the field names below, e.g.::

    data_dir = "/srv/erica"
    llm_model = "qwen2.5-coder-0.5b"
    semantic_results = 8

Every field is also an environment variable: ``ERICA_`` + the upper-case field name.

Each setting is declared once, below, with its type, default, bounds and help; the CLI (flag
defaults and help), the UI (slider bounds, :func:`settings_bounds`) and ``erica config`` read
that declaration. pydantic-settings reads the environment; the TOML file is read here so that
a broken or non-UTF-8 file is a clear error.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from knowledge.common.errors import InvalidInputError

SHIPPED_COURSE = Path(__file__).resolve().parent.parent / "knowledge" / "courses" / "intro_ai"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "erica"


def _path(raw: Any) -> Any:
    return Path(str(raw)).expanduser() if isinstance(raw, str | Path) else raw


def _paths(raw: Any) -> Any:
    """A list (TOML) or an ``os.pathsep``-separated string (environment) of folders."""
    if isinstance(raw, str):
        raw = [p for p in raw.split(os.pathsep) if p]
    if isinstance(raw, list | tuple):
        return tuple(_path(p) for p in raw)
    return raw


ExpandedPath = Annotated[Path, BeforeValidator(_path)]
Folders = Annotated[tuple[Path, ...], NoDecode, BeforeValidator(_paths)]


class Settings(BaseModel):
    """Effective configuration. Build it with :func:`load_settings`.

    Constructing ``Settings(...)`` directly gives the defaults plus the arguments (no file, no
    environment), validated like loaded settings.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    data_dir: ExpandedPath = Field(default_factory=_default_data_dir,
                                   description="the ChromaDB folder, assembled models, image sets")
    course_dirs: Folders = Field((SHIPPED_COURSE,),
                                 description="folders of card files (`:`-separated)")
    models_dir: ExpandedPath | None = Field(
        None, description="assembled and derived models (default: DATA_DIR/models)")
    chroma_url: str = Field("", description="a Chroma server URL; empty: the embedded folder")
    embedding_model: str = Field("minilm-l6-int8",
                                 description="sentence embedder: minilm-l6-int8 or minilm-l6")
    multilingual_model: str = Field(
        "e5-small-q4", description="embedder of the cross-language concept index for Czech, "
        "Russian and other questions (e5-small-q4); empty: English only")
    llm_backend: str = Field("llama-cpp",
                             description="a registered LLM backend: llama-cpp, openai-http, fake")
    llm_model: str = Field("qwen2.5-coder-1.5b",
                           description="a packaged model name or a path to a .gguf file")
    llm_url: str = Field("", description="base URL of an OpenAI-compatible server "
                         "(for llm_backend=openai-http)")
    llm_parallel: int = Field(0, ge=0, le=256, description="answers sent to the LLM server "
                              "at once; 0: as many as it has slots (llama.cpp), else 1")
    llm_server_binary: str = Field("", description="llama.cpp's llama-server for `erica serve` "
                                   "(default: the build of scripts/setup.sh --server)")
    llm_threads: int = Field(2, ge=1, le=256, description="CPU threads of the in-process model")
    llm_context: int = Field(4096, ge=256, le=131072, description="context window in tokens")
    max_tokens: int = Field(220, ge=1, le=8192,
                            description="longest model answer in tokens (a few sentences)")
    llm_timeout_s: float = Field(300.0, gt=0, le=3600,
                                 description="wall-clock limit of one reply, queue included")
    semantic_results: int = Field(5, ge=1, le=100, description="semantic search results")
    prerequisite_depth: int = Field(2, ge=0, le=10, description="prerequisite depth")
    max_concepts: int = Field(10, ge=1, le=100, description="max concepts")
    history_turns: int = Field(3, ge=0, le=50, description="earlier turns a follow-up sees")
    min_match_score: float = Field(
        0.30, ge=-1.0, le=1.0,
        description="below this best cosine score the course does not cover the question")
    context_words: int = Field(450, ge=10, le=5000,
                               description="card words of the main concepts the model answers "
                               "from (their summary, explanation and worked example)")
    clip_model: str = Field("mini-clip",
                            description="mini-clip (shipped) or an open_clip model name")
    clip_pretrained: str = Field("laion2b_s34b_b79k",
                                 description="open_clip tag or a local weights file")
    clip_image_roots: Folders = Field((), description="folders the UI may index besides uploads")
    mastery_threshold: float = Field(
        0.95, ge=0.5, le=0.999, description="P(known) at which a concept counts as mastered "
        "in practice (0.95 as in OATutor)")
    upload_max_mb: int = Field(20, ge=1, le=10240, description="largest upload in MB")
    ui_host: str = Field("127.0.0.1", description="address the UI listens on")
    ui_port: int = Field(8501, ge=1, le=65535, description="port the UI listens on")
    log_level: str = Field("WARNING", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$",
                           description="DEBUG, INFO, WARNING, ERROR or CRITICAL")

    def model_post_init(self, _context: Any) -> None:
        if self.models_dir is None:  # frozen: set once, while the object is being built
            object.__setattr__(self, "models_dir", self.data_dir / "models")

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _explain(exc) from None


class _TomlFile(PydanticBaseSettingsSource):
    """The settings file, read as UTF-8 TOML; unreadable files are a clear error."""

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does it all
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = config_file()
        if path is None:
            return {}
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"settings file {path} is not UTF-8 text (byte {exc.start})",
                "save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`) or unset ERICA_CONFIG",
            ) from None
        except OSError as exc:
            raise InvalidInputError(f"settings file {path} cannot be read: {exc}",
                                    "fix the file or unset ERICA_CONFIG") from exc
        try:
            values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInputError(f"settings file {path} cannot be read: {exc}",
                                    "fix the TOML or unset ERICA_CONFIG") from exc
        unknown = sorted(set(values) - set(Settings.model_fields))
        if unknown:
            raise InvalidInputError(f"unknown setting(s) in {path}: {', '.join(unknown)}",
                                    "run `erica config` to see the valid names")
        return values


class _Loaded(BaseSettings, Settings):
    """Settings as read from the TOML file and the environment (pydantic-settings)."""

    model_config = SettingsConfigDict(env_prefix="ERICA_", frozen=True, extra="forbid")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return init_settings, env_settings, _TomlFile(settings_cls)


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
    try:
        loaded = _Loaded(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise _explain(exc) from None
    return Settings(**{name: getattr(loaded, name) for name in Settings.model_fields})


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy with some fields changed (validated like loaded settings)."""
    return Settings(**{**{n: getattr(settings, n) for n in Settings.model_fields}, **changes})


def settings_bounds(name: str) -> tuple[float | None, float | None]:
    """(lowest, highest) allowed value of a numeric setting; None where unbounded."""
    lo = hi = None
    for rule in Settings.model_fields[name].metadata:
        if isinstance(rule, Ge):
            lo = rule.ge
        elif isinstance(rule, Le):
            hi = rule.le
        elif getattr(rule, "gt", None) is not None:
            lo = rule.gt
    return lo, hi


def settings_help(name: str) -> str:
    """The declared help of a setting, with its default where it has a plain one."""
    field = Settings.model_fields[name]
    default = field.get_default(call_default_factory=True)
    if isinstance(default, tuple):
        default = os.pathsep.join(str(p) for p in default)
    return f"{field.description} (default {default})" if default not in (None, "") \
        else str(field.description)


def _explain(exc: ValidationError) -> InvalidInputError:
    """The first problem of a failed validation, named as the user wrote it."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    raw = error.get("input")
    where = f"ERICA_{name.upper()} (or {name} in the settings file)"
    if error["type"] == "extra_forbidden":
        return InvalidInputError(f"unknown setting {name}",
                                 "run `erica config` to see the valid names")
    if name in Settings.model_fields and error["type"] in (
            "greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        lo, hi = settings_bounds(name)
        return InvalidInputError(f"{name} must be between {lo} and {hi} (got {raw!r})",
                                 f"set {where} to a value in {lo}..{hi}")
    kind = Settings.model_fields[name].annotation if name in Settings.model_fields else ""
    kind = getattr(kind, "__name__", str(kind))
    return InvalidInputError(f"setting {name}={raw!r} is not a valid {kind}: {error['msg']}",
                             f"set {where} to a valid {kind}")

"""Configuration: one YAML file with ``${env.NAME}`` / ``${env.NAME:=default}`` substitution.

Everything the server needs to start is described here; ``app.py`` turns it into
running parts. A bad file raises ``ConfigError`` with one line naming the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Union

import platformdirs
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from relaystack.auth_keys import keys_from_env, keys_from_file
from relaystack.background_config import BackgroundConfig
from relaystack.config_model import ConfigError as ConfigError
from relaystack.config_model import ConfigModel
from relaystack.files_config import FilesConfig
from relaystack.inference.providers import PROVIDER_TYPES
from relaystack.operations_config import OperationsConfig
from relaystack.recording.modes import RecordMode
from relaystack.store.runners import normalize_url
from relaystack.tool_settings import ToolsConfig

DEFAULT_PORT = 8321
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

_ENV_PATTERN = re.compile(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")
_PASSWORD_PATTERN = re.compile(r"(://[^/@:]*:)[^/@]*@")


class ServerConfig(ConfigModel):
    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)
    # With API keys configured, /docs, /redoc and /openapi.json need a key too
    # unless this opens them.
    open_docs: bool = False
    # ----- limits: each one hit is a 4xx naming the parameter and the limit -----
    max_input_items: int = Field(4096, gt=0)  # input items (or chat messages) per request
    max_tools: int = Field(128, gt=0)  # OpenAI's limit
    max_content_parts: int = Field(1024, gt=0)  # content parts per message
    max_json_depth: int = Field(64, ge=8, le=200)  # orjson writes at most 254 levels
    # Bodies at least this large are parsed and validated in a worker thread, so
    # the event loop keeps serving others meanwhile.
    offload_body_bytes: int = Field(64 * 1024, ge=0)
    body_timeout: float = Field(60.0, gt=0)  # seconds to receive a whole body (408)
    # The items' JSON size, summed (in memory they take several times that); 0: no cache.
    # 16 MiB keeps a busy replica's resident memory near its start-up size.
    chain_cache_bytes: int = Field(16 * 1024 * 1024, ge=0)
    keep_alive_timeout: int = Field(5, gt=0)  # seconds an idle connection stays open
    # Seconds for a request's line and headers to arrive (slowloris), then a 408.
    header_timeout: float = Field(20.0, gt=0)
    limit_concurrency: int = Field(1024, gt=0)  # open connections before a 503
    # The secret that seals ``encrypted_content`` (compaction, stateless reasoning).
    # Replicas must share it; unset: a key file beside the SQLite database, or on
    # PostgreSQL a key per process (blobs then open only on the replica that made them).
    sealing_key: str | None = None
    # On SIGTERM: seconds running turns (foreground and background) get to finish.
    shutdown_grace: float = Field(20.0, ge=0)


# The union of every registered provider type's section, told apart by ``type``
# (built from the registry at import, hence Union[...]: ``|`` cannot take a tuple).
ProviderConfig = Annotated[
    Union[tuple(provider.config for provider in PROVIDER_TYPES.values())],  # noqa: UP007
    Field(discriminator="type"),
]


class StorageConfig(ConfigModel):
    # Empty: a SQLite file in the user's data dir.
    url: str = Field("", validate_default=True)
    # ----- PostgreSQL only: connections per replica and a per-statement deadline -----
    pool_size: int = Field(10, gt=0)
    max_overflow: int = Field(10, ge=0)
    statement_timeout: float = Field(30.0, ge=0)  # seconds; 0: none

    @field_validator("url")
    @classmethod
    def _usable_url(cls, url: str) -> str:
        url = url or default_sqlite_url()
        check_storage_url(url)  # a bad URL says so here, not at start-up
        return url


SQLITE_URL_FORMS = "sqlite:///relative.db or sqlite:////abs/path.db"
URL_FORMS = f"{SQLITE_URL_FORMS}, or postgresql://USER@HOST/DB"


def check_storage_url(url: str) -> None:
    """Explain a URL we cannot open, quoting at most its scheme (never a password)."""
    scheme, colon, rest = url.partition(":")
    if not colon:
        raise ValueError(f"not a database URL: use {URL_FORMS}")
    # ``sqlite://`` alone is an in-memory database; ``sqlite://name.db`` would be one too.
    if _is_sqlite(scheme) and rest != "//" and not rest.startswith("///"):
        raise ValueError(f"a SQLite URL looks like {SQLITE_URL_FORMS}")
    try:
        normalize_url(url)
    except ValueError:
        raise ValueError(f"unsupported database {scheme!r}: use {URL_FORMS}") from None


def anchor_sqlite_path(url: str, directory: Path) -> str:
    """A relative SQLite path made absolute against ``directory``; other URLs as given."""
    scheme, _, rest = url.partition(":")
    if not _is_sqlite(scheme) or not rest.startswith("///"):
        return url
    path = rest.removeprefix("///")
    if not path or path.startswith(("/", ":memory:", "?")):
        return url
    return f"{scheme}:///{directory.resolve() / path}"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory ones."""
    scheme, _, rest = url.partition(":")
    path = rest.removeprefix("///").partition("?")[0]
    if not _is_sqlite(scheme) or not rest.startswith("///") or path in ("", ":memory:"):
        return None
    return Path(path)


def _is_sqlite(scheme: str) -> bool:
    return scheme.lower().partition("+")[0] == "sqlite"


def without_password(url: str) -> str:
    """``postgresql://user:***@host/db`` for logs and messages."""
    return _PASSWORD_PATTERN.sub(r"\1***@", url)


class RecordingConfig(ConfigModel):
    mode: RecordMode = "live"
    directory: str | None = None
    # Seconds between replayed stream chunks; 0 replays as fast as possible.
    pacing: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _needs_directory(self) -> RecordingConfig:
        if self.mode != "live" and not self.directory:
            raise ValueError(f"mode {self.mode!r} needs a directory")
        return self


class AuthKey(ConfigModel):
    key: str
    owner: str


class AuthConfig(ConfigModel):
    """API keys, each naming the owner of what its requests store. Keys may be listed
    inline, in a YAML/JSON file (``keys_file``: a list of ``{key, owner}``), or in an
    environment variable (``keys_env``: ``key:owner,key2:owner2``); all are merged."""

    keys: list[AuthKey] = Field(default_factory=list)
    keys_file: str | None = None
    keys_env: str | None = None

    @model_validator(mode="after")
    def _merge_sources(self) -> AuthConfig:
        pairs = []
        if self.keys_file is not None:
            pairs += keys_from_file(self.keys_file)
        if self.keys_env is not None:
            pairs += keys_from_env(self.keys_env)
        self.keys = [*self.keys, *(AuthKey(key=key, owner=owner) for key, owner in pairs)]
        owners: dict[str, str] = {}
        for entry in self.keys:
            if owners.setdefault(entry.key, entry.owner) != entry.owner:
                raise ValueError(f"one key is given to two owners ({entry.owner!r})")
        # Turning auth on with no key would lock everyone out; say so at start-up.
        if not self.keys:
            raise ValueError("no API keys given (use keys, keys_file or keys_env)")
        return self


class Config(ConfigModel):
    server: ServerConfig = Field(default_factory=ServerConfig)
    providers: list[ProviderConfig] = Field(default_factory=list)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    recording: RecordingConfig = Field(default_factory=RecordingConfig)
    auth: AuthConfig | None = None
    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    operations: OperationsConfig = Field(default_factory=OperationsConfig)
    background: BackgroundConfig = Field(default_factory=BackgroundConfig)
    files: FilesConfig = Field(default_factory=FilesConfig)

    @model_validator(mode="after")
    def _unique_provider_ids(self) -> Config:
        seen: set[str] = set()
        for provider in self.providers:
            if provider.id in seen:
                raise ValueError(f"provider id {provider.id!r} is used twice")
            seen.add(provider.id)
        return self


def with_recording_overrides(
    config: Config,
    mode: str | None = None,
    directory: str | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Apply ``--record-mode`` / ``--recordings`` or, failing those, the environment
    (``RELAYSTACK_RECORD_MODE`` / ``RELAYSTACK_RECORDINGS_DIR``) over the file's values."""
    env = os.environ if environ is None else environ
    mode = mode or env.get("RELAYSTACK_RECORD_MODE") or config.recording.mode
    directory = directory or env.get("RELAYSTACK_RECORDINGS_DIR") or config.recording.directory
    try:
        recording = RecordingConfig(
            mode=mode,  # type: ignore[arg-type]
            directory=directory,
            pacing=config.recording.pacing,
        )
    except ValidationError as exc:
        raise ConfigError(f"recording: {_first_problem(exc).split(': ', 1)[-1]}") from None
    return config.model_copy(update={"recording": recording})


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("relaystack", appauthor=False))


def default_sqlite_url() -> str:
    return f"sqlite:///{default_data_dir() / 'relaystack.db'}"


def substitute_env(value: Any, environ: dict[str, str] | None = None) -> Any:
    """Replace ``${env.NAME}`` and ``${env.NAME:=default}`` in every string of a YAML tree."""
    env = os.environ if environ is None else environ
    if isinstance(value, dict):
        return {key: substitute_env(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_env(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set and has no default")

    return _ENV_PATTERN.sub(replace, value)


def parse_config(data: Any, config_dir: Path | None = None) -> Config:
    """Validate a configuration tree. ``config_dir`` is the directory of the file it
    came from: a relative SQLite path is read relative to it (without a file, relative
    to the working directory)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a mapping at the top level")
    data = substitute_env(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc)) from None
    if config_dir is not None:
        config.storage.url = anchor_sqlite_path(config.storage.url, config_dir)
    return config


def load_config(path: str | os.PathLike[str]) -> Config:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".replace("\n", " ")) from None
    return parse_config(data, config_dir=Path(path).parent)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"] if part not in PROVIDER_TYPES)
    message = error["msg"]
    known_types = f"known types: {', '.join(PROVIDER_TYPES)}"
    if error["type"] == "union_tag_invalid":
        location += ".type"
        message = f"unknown provider type {error['ctx']['tag']!r}; {known_types}"
    elif error["type"] == "union_tag_not_found":
        location += ".type"
        message = f"a provider needs a type; {known_types}"
    elif error["type"] == "extra_forbidden":
        message = "unknown key"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{location or 'config'}: {message}"

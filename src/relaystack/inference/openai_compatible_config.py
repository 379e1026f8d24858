"""The ``openai-compatible`` provider type: its configuration and its factory."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator

from relaystack.config_model import ConfigModel
from relaystack.inference.base import ForwardedField, InferenceProvider
from relaystack.inference.provider_type import ProviderContext, ProviderType


class OpenAICompatibleProviderConfig(ConfigModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["openai-compatible"]
    base_url: str
    api_key: str | None = None
    api_key_env: str | None = None
    # None: discover the list from the upstream's GET /models at start-up.
    models: list[str] | None = None
    timeout: float = Field(600.0, gt=0)
    connect_timeout: float = Field(10.0, gt=0)
    # Overall seconds for one upstream call, however steadily it trickles (504).
    deadline: float = Field(1800.0, gt=0)
    # Responses fields this upstream takes in a chat body (OpenAI's does): sent on when
    # a request sets them. None by default: not every server accepts them.
    forward: list[ForwardedField] = Field(default_factory=list)

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


def build(config: OpenAICompatibleProviderConfig, context: ProviderContext) -> InferenceProvider:
    from relaystack.inference.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider(config, transport=context.upstream_transport(config.base_url))


def describe(config: OpenAICompatibleProviderConfig) -> str:
    models = ", ".join(config.models) if config.models is not None else None
    return f"{config.base_url} ({models or 'models discovered at start'})"


PROVIDER_TYPE = ProviderType(OpenAICompatibleProviderConfig, build, describe)

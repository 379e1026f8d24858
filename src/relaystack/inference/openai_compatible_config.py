"""The ``openai-compatible`` provider type: its configuration and its factory."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator

from relaystack.config_model import ConfigModel
from relaystack.inference.base import (
    DEFAULT_CONTEXT_WINDOW,
    ForwardedField,
    InferenceProvider,
    ModelContext,
)
from relaystack.inference.provider_type import ProviderContext, ProviderType
from relaystack.inference.retry import RetryConfig
from relaystack.inference.tokens import TokenizerName, tokenizer_for


class ModelContextConfig(ConfigModel):
    """One model's context settings; unset keys take the provider's."""

    context_window: int | None = Field(None, gt=0)
    max_output_tokens: int | None = Field(None, ge=16)
    truncation: Literal["auto", "disabled"] | None = None
    tokenizer: TokenizerName | None = None


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
    # ----- context: the window, how it is counted, and defaults for requests -----
    context_window: int = Field(DEFAULT_CONTEXT_WINDOW, gt=0)  # tokens per model
    # The cap and truncation a request that sets none gets (OpenAI's: none, disabled).
    max_output_tokens: int | None = Field(None, ge=16)
    truncation: Literal["auto", "disabled"] = "disabled"
    # auto: OpenAI's encoding for OpenAI model names, else an estimate (4 chars a token).
    tokenizer: TokenizerName = "auto"
    model_settings: dict[str, ModelContextConfig] = Field(default_factory=dict)
    # A 429 or 503 answered before any output is retried (retry.py); attempts: 1 for none.
    retry: RetryConfig = Field(default_factory=RetryConfig)

    @model_validator(mode="after")
    def _one_key_source(self) -> OpenAICompatibleProviderConfig:
        if self.api_key is not None and self.api_key_env is not None:
            raise ValueError("give api_key or api_key_env, not both")
        return self

    def model_context(self, model: str) -> ModelContext:
        own = self.model_settings.get(model) or ModelContextConfig()
        return ModelContext(
            window=own.context_window or self.context_window,
            tokenizer=tokenizer_for(own.tokenizer or self.tokenizer, model),
            max_output_tokens=own.max_output_tokens or self.max_output_tokens,
            truncation=own.truncation or self.truncation,
        )

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

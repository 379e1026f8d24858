"""What a provider type declares: its configuration section, a factory, a line for ``check``.

Each provider type has one declaring module (``openai_compatible_config``,
``local.config``) that must stay cheap to import: ``config`` imports them all to know
every ``type``, so a provider's heavy parts (llama.cpp) load only in its factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_args

import httpx

from relaystack.config_model import ConfigModel
from relaystack.ids import Clock, IdSource
from relaystack.inference.base import InferenceProvider

ConfigT = TypeVar("ConfigT", bound=ConfigModel)


def _no_wrapper(base_url: str) -> httpx.AsyncBaseTransport | None:
    return None


@dataclass(frozen=True)
class ProviderContext:
    """What the app hands every factory.

    ``upstream_transport(base_url)`` is the transport for HTTP to that upstream: the
    recorder outside ``live`` mode, None (the provider's own pool) otherwise.
    """

    ids: IdSource = field(default_factory=IdSource)
    clock: Clock = field(default_factory=Clock)
    upstream_transport: Callable[[str], httpx.AsyncBaseTransport | None] = _no_wrapper


@dataclass(frozen=True)
class ProviderType(Generic[ConfigT]):
    """One provider type. ``config`` must have a ``type: Literal["<name>"]`` field."""

    config: type[ConfigT]
    build: Callable[[ConfigT, ProviderContext], InferenceProvider]
    # What ``relaystack check`` says the provider serves from, e.g. its base URL.
    describe: Callable[[ConfigT], str]

    @property
    def name(self) -> str:
        (name,) = get_args(self.config.model_fields["type"].annotation)
        return str(name)


AnyProviderType = ProviderType[Any]

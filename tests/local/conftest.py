"""Fixtures for the local provider: the real SmolLM2 model, never a mock of llama.cpp.

One provider is shared by the module's tests (loading the model takes ~0.15 s, but
every provider owns a worker thread and a llama.cpp context). Tests that need their
own settings (a tiny queue or context) build their own with ``make_provider``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from relaystack.inference.local.provider import LocalProvider
from tests.local.support import config


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    local = LocalProvider(config())
    yield local
    asyncio.run(local.aclose())


@pytest.fixture
def make_provider() -> Iterator[Callable[..., LocalProvider]]:
    made: list[LocalProvider] = []

    def make(**overrides: Any) -> LocalProvider:
        local = LocalProvider(config(**overrides))
        made.append(local)
        return local

    yield make
    for local in made:
        asyncio.run(local.aclose())

"""The test id that scopes recordings, carried with each request.

A contextvar rather than a parameter: the id must reach the HTTP transport deep below
the engine without every layer in between knowing about tests. asyncio copies the
context into tasks, so streaming and background work see the id of the request that
started them.
"""

from __future__ import annotations

from contextvars import ContextVar

current_test_id: ContextVar[str | None] = ContextVar("relaystack_test_id", default=None)

"""``SqlJobStore``: the ``JobStore`` interface on the store's runner.

Kept beside ``SqlStore`` rather than inside it: the engine's background workers are
its only user. Every method is one transaction (see ``jobs_sql.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from relaystack.store import jobs_sql
from relaystack.store.base import Item
from relaystack.store.jobs_base import Claimed, EventRow, Flushed
from relaystack.store.keys import lookup_key as key
from relaystack.store.runners import Runner, normalize_url


class SqlJobStore:
    def __init__(self, runner: Runner, url: str) -> None:
        self.runner = runner  # the store's (perhaps wrapped, to time its operations)
        self.url = make_url(normalize_url(url))
        self._listener: Any = None  # PostgreSQL: the connection that LISTENs

    async def listen(self, wake: Callable[[list[str]], None]) -> bool:
        """PostgreSQL: call ``wake`` with the response ids of every event batch any
        replica commits (one connection LISTENs). False on SQLite, where this process
        is the only writer and wakes its streams itself."""
        if self.url.get_backend_name() != "postgresql":
            return False
        dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = await asyncpg.connect(dsn)

        def heard(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            wake(payload.split(","))

        await self._listener.add_listener(jobs_sql.EVENTS_CHANNEL, heard)
        return True

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    @property
    def shared(self) -> bool:
        return self.runner.dialect != "sqlite"

    async def submit(
        self,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        request: dict[str, Any],
        events: list[EventRow],
        max_queued: int,
    ) -> None:
        await self.runner.write(
            jobs_sql.submit, response, input_items, owner, request, events, max_queued
        )

    async def claim(self, worker: str, now_ms: int, lease_ms: int, limit: int) -> list[Claimed]:
        return await self.runner.write(jobs_sql.claim, worker, now_ms, lease_ms, limit)

    async def flush(
        self, worker: str, now_ms: int, lease_ms: int, events: list[EventRow], renew: list[str]
    ) -> Flushed:
        return await self.runner.write(jobs_sql.flush, worker, now_ms, lease_ms, events, renew)

    async def finish(
        self,
        worker: str,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        conversation_id: str | None,
        events: list[EventRow],
    ) -> None:
        await self.runner.write(
            jobs_sql.finish, worker, response, input_items, owner, conversation_id, events
        )

    async def end_failed(self, response_id: str, error: dict[str, str], worker: str) -> bool:
        return await self.runner.write(jobs_sql.end_failed, response_id, error, worker)

    async def reap(self, now_ms: int, error: dict[str, str]) -> list[str]:
        return await self.runner.write(jobs_sql.reap, now_ms, error)

    async def request_cancel(self, response_id: str, owner: str) -> str | None:
        return await self.runner.write(jobs_sql.request_cancel, key(response_id), owner)

    async def events_after(
        self, response_id: str, after: int, limit: int = 1000
    ) -> tuple[list[tuple[int, str]], str | None]:
        return await self.runner.read(jobs_sql.events_after, key(response_id), after, limit)

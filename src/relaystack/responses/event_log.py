"""A background response's events: written to the store in batches, read back by streams.

Workers hand events to ``EventLog.add``; one flush per tick writes every pending
event of this replica in one transaction (a write per token would cost a store round
trip per token), renewing the workers' leases on the way. A stream follows the log:
it replays what is stored after its cursor, then waits for more, woken at once by a
flush on this replica, and on PostgreSQL by the notification every flush sends to all
replicas (a short poll stands in when notifications are unavailable).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator

from relaystack.items.events import Event
from relaystack.store.jobs_base import EventRow, JobStore
from relaystack.wire.json import dumps_str, loads

# Stored statuses after which nothing more is logged.
ENDED = frozenset({"completed", "incomplete", "failed", "cancelled"})
_TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class EventLog:
    def __init__(self, jobs: JobStore, follow_interval: float) -> None:
        self.jobs = jobs
        self.follow_interval = follow_interval
        self._pending: list[EventRow] = []
        self._listeners: dict[str, set[asyncio.Event]] = defaultdict(set)
        # Whether other replicas' flushes wake us (PostgreSQL LISTEN): then polling is
        # only a backstop for a notification lost with its connection.
        self.notified = False

    def add(self, response_id: str, event: Event) -> None:
        self._pending.append((response_id, event["sequence_number"], dumps_str(event)))

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def take(self, response_id: str | None = None) -> list[EventRow]:
        """The pending events (of one response, or all), now the caller's to write."""
        if response_id is None:
            taken, self._pending = self._pending, []
            return taken
        taken = [row for row in self._pending if row[0] == response_id]
        self._pending = [row for row in self._pending if row[0] != response_id]
        return taken

    def _poll_interval(self) -> float:
        if self.notified:
            return 1.0
        # One process on SQLite: its own flushes wake it; the poll is a backstop.
        return self.follow_interval if self.jobs.shared else 0.5

    def written(self, response_ids: set[str] | list[str]) -> None:
        """Wake this replica's streams following these responses."""
        for response_id in response_ids:
            for listener in self._listeners.get(response_id, ()):
                listener.set()

    async def follow(self, response_id: str, after: int) -> AsyncIterator[Event]:
        """The logged events after sequence number ``after``, then the live ones, until
        the response ends."""
        wake = asyncio.Event()
        self._listeners[response_id].add(wake)
        try:
            while True:
                wake.clear()  # before reading: a flush after the read wakes us
                rows, status = await self.jobs.events_after(response_id, after)
                for number, body in rows:
                    after = number
                    event = loads(body)
                    yield event
                    if event["type"] in _TERMINAL_EVENTS:
                        return
                if rows:
                    continue
                if status is None or status in ENDED:
                    return  # deleted, or ended without a terminal event (cancelled)
                interval = self._poll_interval()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), interval)
        finally:
            listeners = self._listeners.get(response_id)
            if listeners is not None:
                listeners.discard(wake)
                if not listeners:
                    del self._listeners[response_id]

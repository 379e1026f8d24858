"""What the background workers need from storage (``JobStore``), and nothing about how
it is kept: the engine imports this, ``app.py`` builds the SQL implementation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from relaystack.store.base import Item

# (response id, sequence number, the event's JSON)
EventRow = tuple[str, int, str]


class QueueFull(Exception):
    """As many jobs are queued as the configuration allows: nothing was stored."""


class LeaseLost(Exception):
    """The job is no longer this worker's (its lease expired, or it was ended)."""


@dataclass(frozen=True)
class Claimed:
    response_id: str
    owner: str
    request: dict[str, Any]
    response: dict[str, Any]  # as stored, status now in_progress, output empty
    input_items: list[Item]


@dataclass(frozen=True)
class Flushed:
    cancel_requested: set[str]  # jobs of this worker whose cancel was asked for
    lost: set[str]  # jobs this worker renewed but no longer holds


class JobStore(Protocol):
    """Background jobs and their event log; every method is one transaction."""

    @property
    def shared(self) -> bool:
        """Whether other processes may run jobs too (PostgreSQL): then they are polled
        for, besides being woken by this process's own submissions."""

    async def listen(self, wake: Callable[[list[str]], None]) -> bool:
        """Call ``wake`` with the response ids of every event batch any process
        commits; False when there is no such channel (one process: it wakes itself)."""

    async def close(self) -> None: ...

    async def submit(
        self,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        request: dict[str, Any],
        events: list[EventRow],
        max_queued: int,
    ) -> None:
        """Store a queued response, its input, its job and its first events; raises
        ``QueueFull`` (storing nothing) when ``max_queued`` jobs wait already."""

    async def claim(self, worker: str, now_ms: int, lease_ms: int, limit: int) -> list[Claimed]:
        """Take up to ``limit`` queued jobs (oldest first) under a lease; they are now
        ``in_progress``."""

    async def flush(
        self, worker: str, now_ms: int, lease_ms: int, events: list[EventRow], renew: list[str]
    ) -> Flushed:
        """Append events and renew this worker's leases on ``renew``."""

    async def finish(
        self,
        worker: str,
        response: dict[str, Any],
        input_items: list[Item],
        owner: str,
        conversation_id: str | None,
        events: list[EventRow],
    ) -> None:
        """Store the turn's end and last events and remove its job; ``LeaseLost`` when
        the job is no longer this worker's (nothing stored)."""

    async def end_failed(self, response_id: str, error: dict[str, str], worker: str) -> bool:
        """End this worker's job ``failed`` with ``error``, logging ``response.failed``."""

    async def reap(self, now_ms: int, error: dict[str, str]) -> list[str]:
        """End ``failed`` the running jobs whose lease expired; which ones."""

    async def request_cancel(self, response_id: str, owner: str) -> str | None:
        """``cancelled`` (it was queued), ``running`` (its worker is asked to stop) or
        None (no job: ended, or never a background response)."""

    async def events_after(
        self, response_id: str, after: int, limit: int = 1000
    ) -> tuple[list[tuple[int, str]], str | None]:
        """Logged events numbered above ``after`` (JSON), and the stored status."""

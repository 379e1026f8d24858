"""Expiry of files and vector stores (``expires_after``), checked where rows are read and
swept in the background.

A file past its ``expires_at`` is gone at once for every read (its queries compare
``expires_at`` with now, and search leaves its chunks out); the sweep then deletes it
for good: its chunks leave every store and its bytes are deleted. Each replica sweeps
(every ``files.expiry_sweep_seconds``); two replicas deleting the same file is
harmless, the second finds nothing.

A vector store's ``expires_at`` is its ``last_active_at`` plus ``expires_after.days``:
searching it (``/search`` or ``file_search``) moves both, at most once a minute per
store (``TOUCH_EVERY``), so a busy store costs one small write a minute rather than one
per search. A store past it is ``expired`` and cannot be searched any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from relaystack.errors import InvalidRequest
from relaystack.ids import Clock
from relaystack.store.files_base import FileStore

log = logging.getLogger(__name__)

TOUCH_EVERY = 60  # seconds: expiry counts in days, a minute late is nothing
SWEEP_BATCH = 100  # files deleted per round trip of the sweep


def store_expired(store_id: str) -> InvalidRequest:
    return InvalidRequest(
        f"Vector store '{store_id}' has expired and can no longer be used.",
        param="vector_store_ids",
        code="vector_store_expired",
    )


async def use_stores(files: FileStore, stores: Mapping[str, Any], now: int) -> None:
    """Refuse an expired store; mark the others used (``revisions`` rows)."""
    for store_id, row in stores.items():
        if row.expires_at is not None and row.expires_at <= now:
            raise store_expired(store_id)
    stale = [key for key, row in stores.items() if now - row.last_active_at >= TOUCH_EVERY]
    if stale:
        await files.touch_stores(stale, now)


class ExpirySweeper:
    """Deletes expired files every ``every`` seconds, in a task of its own."""

    def __init__(self, files: FileStore, clock: Clock, every: float) -> None:
        self._files = files
        self._clock = clock
        self._every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="relaystack-expiry")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        """Delete every file expired by now; how many."""
        total = 0
        while True:
            deleted = await self._files.expire_files(self._clock.seconds(), SWEEP_BATCH)
            total += deleted
            if deleted < SWEEP_BATCH:
                return total

    async def _loop(self) -> None:
        while True:
            try:
                if deleted := await self.sweep():
                    log.info("deleted %d expired files", deleted)
            except Exception:  # the sweep must outlive a store that is briefly away
                log.exception("sweeping expired files failed")
            await asyncio.sleep(self._every)

"""Usage per owner, model and day, added up in memory and written once a second.

A write per request would cost every request a store round trip (on SQLite, a turn of
the one writer thread); a second's worth of requests in one write costs next to
nothing. The price: a replica that dies loses at most its last second of counts, and
another replica's last second shows up a second late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from relaystack.store.base import UsageCounts, UsageKey, UsageStore

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
DAY_SECONDS = 86400


def utc_day(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch_seconds))


class UsageBuffer:
    def __init__(
        self,
        store: UsageStore,
        flush_seconds: float = FLUSH_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._pending: dict[UsageKey, UsageCounts] = {}
        self._task: asyncio.Task[None] | None = None
        self._day = ""
        self._day_span = (0.0, 0.0)  # [start, end) in epoch seconds of self._day

    def add(self, owner: str, model: str, input_tokens: int, output_tokens: int) -> None:
        key = UsageKey(owner, self._today(), model)
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = UsageCounts()
        counts.requests += 1
        counts.input_tokens += input_tokens
        counts.output_tokens += output_tokens

    def _today(self) -> str:
        # Formatted once a day, not once a request (strftime is most of what add cost).
        now = self._clock()
        start, end = self._day_span
        if not start <= now < end:
            start = now - now % DAY_SECONDS
            self._day, self._day_span = utc_day(now), (start, start + DAY_SECONDS)
        return self._day

    async def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        try:
            await self._store.add_usage(pending)
        except Exception:
            # Kept for the next flush rather than lost: the store may be back by then.
            log.exception("could not write usage; will retry")
            for key, counts in pending.items():
                self._merge(key, counts)

    def _merge(self, key: UsageKey, counts: UsageCounts) -> None:
        into = self._pending.setdefault(key, UsageCounts())
        into.requests += counts.requests
        into.input_tokens += counts.input_tokens
        into.output_tokens += counts.output_tokens

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def aclose(self) -> None:
        """Stop the timer and write what is left (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

"""Concurrent requests per owner: slots claimed from the store a few at a time, counted
in memory, given back in the background.

The store holds one lease row per slot a replica holds (``inflight``); an owner's rows
never outnumber their limit, and a replica lets a request run only in a slot it holds,
so the limit holds across replicas. A request that finds a free slot here costs no
store work; only a replica that needs more slots than it holds asks the store (a few
at a time), and once a second slots that stayed unused for a whole second go back, so
other replicas can have them. Held slots are renewed long before their lease expires;
a replica that dies stops counting after ``lease_seconds``.

The price: another replica may be refused while this one holds slots it has not used
for up to about two seconds (a tick, plus the tick it takes to notice), or the spare
slots of its last claim (fewer than ``SLOTS_PER_CLAIM`` of the limit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from relaystack.store.base import LimitStore

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
# A claim asks for an eighth of the limit: a burst of 32 requests under a limit of 64
# makes 4 store trips, not 32, and a replica holds at most that many spare slots.
CLAIM_SHARE = 8


@dataclass(slots=True)
class _Held:
    """One owner's slots on this replica."""

    leases: list[str] = field(default_factory=list)
    busy: int = 0
    peak: int = 0  # the most busy at once since the last tick
    renew_by: float = float("inf")
    claiming: asyncio.Lock = field(default_factory=asyncio.Lock)


class ConcurrencySlots:
    def __init__(self, store: LimitStore, lease_seconds: int, clock: Callable[[], float]) -> None:
        self._store = store
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._held: dict[str, _Held] = {}

    async def take(self, owner: str, limit: int) -> None:
        """A slot for one of ``owner``'s requests, or ``LimitReached``."""
        held = self._held.get(owner)
        if held is None:
            held = self._held[owner] = _Held()
        if held.busy >= len(held.leases):
            async with held.claiming:  # one claim at a time; the others then find room
                if held.busy >= len(held.leases):
                    await self._claim(owner, held, limit)
        held.busy += 1
        held.peak = max(held.peak, held.busy)

    def give_back(self, owner: str) -> None:
        """The request ended: its slot is free for the next one (here, at once)."""
        self._held[owner].busy -= 1

    async def _claim(self, owner: str, held: _Held, limit: int) -> None:
        now = self._clock()
        want = max(1, limit // CLAIM_SHARE)
        leases = await self._store.claim_leases(owner, now, want, limit, self._lease_seconds)
        held.leases.extend(leases)
        held.renew_by = min(held.renew_by, now + self._lease_seconds / 2)

    async def tick(self) -> None:
        """Give back slots unused since the last tick; renew the others' leases in time.
        The limit gate calls it every ``TICK_SECONDS``."""
        now = self._clock()
        for owner, held in list(self._held.items()):
            keep = max(held.peak, held.busy)
            held.peak = held.busy
            if len(held.leases) > keep:
                spare = held.leases[keep:]
                del held.leases[keep:]
                await self._store.release_leases(spare)
            if held.leases and now >= held.renew_by:
                await self._store.renew_leases(list(held.leases), now + self._lease_seconds)
                held.renew_by = now + self._lease_seconds / 2
            if not held.leases and not held.busy and not held.claiming.locked():
                del self._held[owner]

    async def aclose(self) -> None:
        """Give every held slot back (at shutdown)."""
        leases = [lease for held in self._held.values() for lease in held.leases]
        self._held.clear()
        if leases:
            try:
                await self._store.release_leases(leases)
            except Exception:  # they expire after lease_seconds all the same
                log.exception("could not give back concurrency slots at shutdown")

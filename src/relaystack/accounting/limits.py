"""Limits per owner: checked before the upstream call, counted in the store.

The per-request cost is kept off the database where the limit allows it:

* requests per minute: a replica claims a slice of the minute's requests at once (a
  twentieth of the limit), and lets requests through from its slice without asking
  the store again. The limit always holds across replicas; the price is that a slice
  a replica holds unused at the end of a minute is not given to the others.
* tokens per minute / day: tokens are counted when a request ends, in memory at once
  and in the store once a second (one write per owner and minute, not per request);
  the check reads the store's totals at most once a second per owner (plus this
  replica's own since).
* concurrent requests: counted in memory, in slots a replica claims from the store a
  few at a time and gives back once unused (``concurrency.py``): most requests cost no
  store work, and the limit holds across replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from relaystack.accounting.concurrency import TICK_SECONDS, ConcurrencySlots
from relaystack.errors import RateLimited
from relaystack.operations_config import LimitsConfig
from relaystack.store.base import LimitReached, LimitStore

log = logging.getLogger(__name__)

PURGE_SECONDS = 3600.0
TOKENS_FRESH_SECONDS = 1.0
SLICES_PER_LIMIT = 20
MINUTE, DAY = 60, 86400

_WORDS = {
    "requests_per_minute": ("requests per minute", "requests"),
    "tokens_per_minute": ("tokens per minute", "tokens"),
    "tokens_per_day": ("tokens per day", "tokens"),
    "concurrent_requests": ("concurrent requests", "requests"),
}


@dataclass(frozen=True, slots=True)
class LimitRules:
    """One owner's limits; None: no limit of that kind."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    tokens_per_day: int | None = None
    concurrent_requests: int | None = None

    @property
    def counts_tokens(self) -> bool:
        return self.tokens_per_minute is not None or self.tokens_per_day is not None


@dataclass(slots=True)
class _Slice:
    """Requests of one minute this replica has claimed and not yet let through."""

    window: int
    left: int


@dataclass(slots=True)
class _Spent:
    """Tokens of the current minute and day: the store's, read at ``read_at``, plus
    this replica's own since."""

    minute: int
    day: int
    minute_tokens: int
    day_tokens: int
    read_at: float


class Admission:
    """A request let through: what to do once it has ended."""

    __slots__ = ("_gate", "owner", "rules", "running")

    def __init__(self, gate: LimitGate, owner: str, rules: LimitRules):
        self._gate = gate
        self.owner = owner
        self.rules = rules
        self.running = rules.concurrent_requests is not None  # holds a concurrency slot

    def finish(self) -> None:
        """The response is (about to be) sent: its concurrency slot is free again."""
        if self.running:
            self.running = False
            self._gate.slots.give_back(self.owner)

    async def settle(self, tokens: int) -> None:
        """Count the request's tokens (after its response has been sent)."""
        self.finish()
        if not tokens or not self.rules.counts_tokens:
            return
        self._gate.spend(self.owner, tokens)


class LimitGate:
    def __init__(
        self, config: LimitsConfig, store: LimitStore, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.clock = clock
        self._config = config
        self._rules: dict[str, LimitRules | None] = {}
        self._slices: dict[str, _Slice] = {}
        self._claiming: dict[str, asyncio.Lock] = {}
        self._spent: dict[str, _Spent] = {}
        self._purged_at = 0.0
        self._purging: asyncio.Task[None] | None = None
        self.slots = ConcurrencySlots(store, config.lease_seconds, clock)
        self._unsaved: dict[tuple[str, int], int] = {}  # tokens by owner and minute
        self._ticking: asyncio.Task[None] | None = None

    def rules_for(self, owner: str) -> LimitRules | None:
        if owner not in self._rules:
            limits = self._config.for_owner(owner)
            self._rules[owner] = LimitRules(**limits) if limits else None
        return self._rules[owner]

    async def admit(self, owner: str) -> Admission | None:
        """None for an owner without limits; ``RateLimited`` (429) over a limit."""
        rules = self.rules_for(owner)
        if rules is None:
            return None
        now = self.clock()
        self._purge_now_and_then(now)
        if self._ticking is None:
            self._ticking = asyncio.get_running_loop().create_task(self._tick_forever())
        try:
            if rules.counts_tokens:
                await self._check_tokens(owner, rules, now)
            if rules.requests_per_minute is not None:
                await self._take_request(owner, rules.requests_per_minute, now)
            if rules.concurrent_requests is not None:
                await self._take_slot(owner, rules)
        except LimitReached as reached:
            raise _refusal(owner, reached) from None
        return Admission(self, owner, rules)

    async def _take_request(self, owner: str, limit: int, now: float) -> None:
        window = int(now) // MINUTE * MINUTE
        held = self._slices.get(owner)
        if held is None or held.window != window or held.left <= 0:
            # One claim at a time per owner: concurrent requests that all found the
            # slice empty each claimed a slice of their own (the bench's 32 at once
            # claimed 32 slices, and were refused long before the limit).
            claiming = self._claiming.setdefault(owner, asyncio.Lock())
            async with claiming:
                held = self._slices.get(owner)
                if held is None or held.window != window or held.left <= 0:
                    want = max(1, limit // SLICES_PER_LIMIT)
                    granted = await self.store.claim_requests(owner, now, want, limit)
                    held = self._slices[owner] = _Slice(window, granted)
        held.left -= 1

    async def _take_slot(self, owner: str, rules: LimitRules) -> None:
        assert rules.concurrent_requests is not None
        try:
            await self.slots.take(owner, rules.concurrent_requests)
        except LimitReached:
            held = self._slices.get(owner)
            if held is not None and rules.requests_per_minute is not None:
                held.left += 1  # not let through after all: its request slot is free again
            raise

    async def _check_tokens(self, owner: str, rules: LimitRules, now: float) -> None:
        spent = self._spent.get(owner)
        minute, day = int(now) // MINUTE * MINUTE, int(now) // DAY * DAY
        if spent is None or spent.minute != minute or now - spent.read_at > TOKENS_FRESH_SECONDS:
            minute_tokens, day_tokens = await self.store.window_tokens(owner, now)
            # This replica's tokens not yet written count too.
            minute_tokens += self._unsaved.get((owner, minute), 0)
            day_tokens += sum(n for (who, _), n in self._unsaved.items() if who == owner)
            spent = self._spent[owner] = _Spent(minute, day, minute_tokens, day_tokens, now)
        if rules.tokens_per_minute is not None and spent.minute_tokens >= rules.tokens_per_minute:
            raise LimitReached(
                "tokens_per_minute", rules.tokens_per_minute, minute + MINUTE - int(now)
            )
        if rules.tokens_per_day is not None and spent.day_tokens >= rules.tokens_per_day:
            raise LimitReached("tokens_per_day", rules.tokens_per_day, day + DAY - int(now))

    def spend(self, owner: str, tokens: int) -> None:
        """Count a finished request's tokens: here at once, in the store at the next tick."""
        minute = int(self.clock()) // MINUTE * MINUTE
        key = (owner, minute)
        self._unsaved[key] = self._unsaved.get(key, 0) + tokens
        spent = self._spent.get(owner)
        if spent is not None and spent.minute == minute:
            spent.minute_tokens += tokens
            spent.day_tokens += tokens

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            for step in (self.write_tokens, self.slots.tick):
                try:
                    await step()
                except Exception:  # the store may be back at the next tick
                    log.exception("could not write limits' counts or give back slots")

    async def write_tokens(self) -> None:
        """Write the tokens counted since the last tick (one write per owner and minute)."""
        unsaved, self._unsaved = self._unsaved, {}
        while unsaved:
            key = next(iter(unsaved))
            owner, minute = key
            try:
                await self.store.count_tokens(owner, minute, unsaved[key])
            except Exception:
                for left, count in unsaved.items():  # kept for the next tick
                    self._unsaved[left] = self._unsaved.get(left, 0) + count
                raise
            del unsaved[key]

    async def aclose(self) -> None:
        """Write what is left and give this replica's concurrency slots back (at shutdown)."""
        if self._ticking is not None:
            self._ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticking
        try:
            await self.write_tokens()
        except Exception:
            log.exception("could not write limits' token counts at shutdown")
        await self.slots.aclose()

    def _purge_now_and_then(self, now: float) -> None:
        if now - self._purged_at < PURGE_SECONDS:
            return
        self._purged_at = now
        self._purging = asyncio.get_running_loop().create_task(self.store.purge_limits(now))


def _refusal(owner: str, reached: LimitReached) -> RateLimited:
    words, error_type = _WORDS[reached.kind]
    retry_after = max(1, reached.retry_after)
    return RateLimited(
        f"Rate limit reached for owner '{owner}' on {words}: limit {reached.limit}. "
        f"Please try again in {retry_after}s.",
        error_type=error_type,
        retry_after=retry_after,
    )


def limit_gate(config: LimitsConfig, store: LimitStore) -> LimitGate | None:
    """The gate, or None when no owner has a limit (then admitting costs nothing)."""
    return LimitGate(config, store) if config.any else None

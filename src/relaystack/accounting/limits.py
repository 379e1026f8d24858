"""Limits per owner: checked before the upstream call, counted in the store.

``LimitGate.admit`` costs one store transaction per request for an owner with limits
(nothing for one without): see ``store/limits_sql.py`` for what it runs. When the
request has ended, ``Admission.settle`` gives back its concurrency lease and counts
its tokens, after the response has been sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from relaystack.errors import RateLimited
from relaystack.operations_config import LimitsConfig
from relaystack.store.base import LimitReached, LimitRules, LimitStore

log = logging.getLogger(__name__)

PURGE_SECONDS = 3600.0

_WORDS = {
    "requests_per_minute": ("requests per minute", "requests"),
    "tokens_per_minute": ("tokens per minute", "tokens"),
    "tokens_per_day": ("tokens per day", "tokens"),
    "concurrent_requests": ("concurrent requests", "requests"),
}


class Admission:
    """A request let through: what to do once it has ended."""

    __slots__ = ("_gate", "lease", "owner", "rules")

    def __init__(self, gate: LimitGate, owner: str, rules: LimitRules, lease: str | None):
        self._gate = gate
        self.owner = owner
        self.rules = rules
        self.lease = lease

    async def settle(self, tokens: int) -> None:
        counts_tokens = (
            self.rules.tokens_per_minute is not None or self.rules.tokens_per_day is not None
        )
        if self.lease is None and not (counts_tokens and tokens):
            return
        try:
            await self._gate.store.settle(
                self.owner, self.lease, self._gate.clock(), tokens if counts_tokens else 0
            )
        except Exception:  # the lease expires by itself; the response is already sent
            log.exception("could not settle the limits of a request of %s", self.owner)


class LimitGate:
    def __init__(
        self, config: LimitsConfig, store: LimitStore, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.clock = clock
        self._config = config
        self._rules: dict[str, LimitRules | None] = {}
        self._purged_at = 0.0
        self._purging: asyncio.Task[None] | None = None

    def rules_for(self, owner: str) -> LimitRules | None:
        if owner not in self._rules:
            limits = self._config.for_owner(owner)
            self._rules[owner] = (
                LimitRules(**limits, lease_seconds=self._config.lease_seconds) if limits else None
            )
        return self._rules[owner]

    async def admit(self, owner: str) -> Admission | None:
        """None for an owner without limits; ``RateLimited`` (429) over a limit."""
        rules = self.rules_for(owner)
        if rules is None:
            return None
        now = self.clock()
        self._purge_now_and_then(now)
        try:
            lease = await self.store.admit(owner, now, rules)
        except LimitReached as reached:
            raise _refusal(owner, reached) from None
        return Admission(self, owner, rules, lease)

    def _purge_now_and_then(self, now: float) -> None:
        if now - self._purged_at < PURGE_SECONDS:
            return
        self._purged_at = now
        self._purging = asyncio.get_running_loop().create_task(self.store.purge_limits(now))


def _refusal(owner: str, reached: LimitReached) -> RateLimited:
    words, error_type = _WORDS[reached.kind]
    return RateLimited(
        f"Rate limit reached for owner '{owner}' on {words}: limit {reached.limit}. "
        f"Please try again in {reached.retry_after}s.",
        error_type=error_type,
        retry_after=reached.retry_after,
    )


def limit_gate(config: LimitsConfig, store: LimitStore) -> LimitGate | None:
    """The gate, or None when no owner has a limit (then admitting costs nothing)."""
    return LimitGate(config, store) if config.any else None

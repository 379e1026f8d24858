"""When to call an upstream again after it answered 429 or 503, and how long to wait.

Only answers that arrive before any output are retried: the provider decides that (it
asks here only about a status it got before reading a byte of the stream). The waits
grow exponentially with full jitter, unless the upstream said how long in
``retry-after`` (seconds or an HTTP date), which wins; every wait must fit in the
retry budget, else the upstream's answer goes to the client at once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pydantic import Field

from relaystack.config_model import ConfigModel

# Rate limited, or overloaded for now: the same request may well succeed later.
RETRYABLE_STATUSES = frozenset({429, 503})
# One generator for every schedule: ``random.Random()`` seeds itself from os.urandom
# each time it is made, for jitter that is rarely drawn.
_JITTER = random.Random()


class RetryConfig(ConfigModel):
    """A provider's ``retry:`` section."""

    attempts: int = Field(3, ge=1, le=20)  # calls in all, the first one included
    initial_backoff: float = Field(0.5, ge=0)  # seconds; doubled for each retry
    max_backoff: float = Field(8.0, ge=0)  # seconds, the longest one wait
    # Seconds of waiting in all for one call; a retry-after beyond what is left ends
    # the retries there (the client gets the upstream's 429/503 at once).
    budget: float = Field(30.0, ge=0)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``retry-after`` header as seconds from now (``None``: absent or unreadable)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetrySchedule:
    """The retries of one upstream call: ``next_wait`` says whether, and how long."""

    def __init__(self, config: RetryConfig, rng: random.Random | None = None) -> None:
        self._config = config
        self._rng = rng or _JITTER
        self._attempts = 1
        self._waited = 0.0

    def next_wait(self, status: int, retry_after: str | None) -> float | None:
        """Seconds to wait before calling again after ``status``; ``None``: give up."""
        config = self._config
        if status not in RETRYABLE_STATUSES or self._attempts >= config.attempts:
            return None
        wait = retry_after_seconds(retry_after)
        if wait is None:
            ceiling = min(config.max_backoff, config.initial_backoff * 2 ** (self._attempts - 1))
            wait = self._rng.uniform(0, ceiling)  # full jitter: replicas do not stampede
        if self._waited + wait > config.budget:
            return None
        self._attempts += 1
        self._waited += wait
        return wait

"""Usage is counted under the UTC day each request ended on, across midnight both ways."""

from __future__ import annotations

import calendar

from relaystack.accounting.usage import UsageBuffer
from relaystack.store.base import UsageCounts, UsageKey


class _Kept:
    """A usage store that keeps what it is given (the SQL stores have their own tests)."""

    def __init__(self) -> None:
        self.added: dict[UsageKey, UsageCounts] = {}

    async def add_usage(self, counts: dict[UsageKey, UsageCounts]) -> None:
        self.added.update(counts)


def _epoch(text: str) -> float:
    day, clock = text.split("T")
    year, month, date = map(int, day.split("-"))
    hours, minutes, seconds = map(float, clock.split(":"))
    return calendar.timegm((year, month, date, 0, 0, 0)) + hours * 3600 + minutes * 60 + seconds


async def test_each_request_counts_on_its_own_utc_day() -> None:
    times = iter(
        [
            _epoch("2026-12-31T23:59:59.5"),
            _epoch("2027-01-01T00:00:00.0"),
            _epoch("2027-01-01T12:00:00.0"),
            _epoch("2026-12-31T23:59:59.9"),  # a clock stepped back
        ]
    )
    kept = _Kept()
    buffer = UsageBuffer(kept, clock=lambda: next(times))  # type: ignore[arg-type]
    for tokens in (1, 10, 100, 1000):
        buffer.add("alice", "m", tokens, 0)
    await buffer.flush()
    by_day = {key.day: counts for key, counts in kept.added.items()}
    assert sorted(by_day) == ["2026-12-31", "2027-01-01"]
    assert (by_day["2026-12-31"].requests, by_day["2026-12-31"].input_tokens) == (2, 1001)
    assert (by_day["2027-01-01"].requests, by_day["2027-01-01"].input_tokens) == (2, 110)

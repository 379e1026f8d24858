"""Limits per owner, shared by every replica through the database.

Requests and tokens are counted in fixed windows (a minute, a UTC day): admitting a
request is one upsert that bumps the minute's count and returns it, plus a read of the
day's tokens when that limit is set. Concurrency is a lease row per running request,
counted under a per-owner lock (a PostgreSQL advisory lock; SQLite has one writer).
A request that would go over a limit raises ``LimitReached`` inside the transaction,
so nothing is counted for it.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from relaystack.store.base import LimitReached, LimitRules
from relaystack.store.schema import inflight, rate_windows

MINUTE = 60
DAY = 86400


def admit(connection: Connection, owner: str, now: float, rules: LimitRules) -> str | None:
    lease = None
    if rules.concurrent_requests is not None:
        lease = _take_lease(connection, owner, int(now), rules)
    if rules.requests_per_minute is not None or rules.tokens_per_minute is not None:
        _count_request(connection, owner, now, rules)
    if rules.tokens_per_day is not None:
        used = connection.scalar(
            select(rate_windows.c.tokens).where(*_window(owner, DAY, _start(now, DAY)))
        )
        if (used or 0) >= rules.tokens_per_day:
            raise LimitReached("tokens_per_day", rules.tokens_per_day, _left(now, DAY))
    return lease


def settle(connection: Connection, owner: str, lease: str | None, now: float, tokens: int) -> None:
    if lease is not None:
        connection.execute(delete(inflight).where(inflight.c.id == lease))
    if tokens:
        for span in (MINUTE, DAY):
            _upsert(connection, owner, span, _start(now, span), requests=0, tokens=tokens)


def purge(connection: Connection, before: float) -> None:
    """Forget windows that ended before ``before`` and leases that expired."""
    connection.execute(delete(rate_windows).where(rate_windows.c.window < int(before) - DAY))
    connection.execute(delete(inflight).where(inflight.c.expires_at < int(before)))


def _take_lease(connection: Connection, owner: str, now: int, rules: LimitRules) -> str:
    assert rules.concurrent_requests is not None
    if connection.dialect.name == "postgresql":
        # Two replicas counting at once would both see room for one more.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:owner))"), {"owner": owner})
    connection.execute(
        delete(inflight).where(inflight.c.owner == owner, inflight.c.expires_at < now)
    )
    running = connection.scalar(
        select(func.count()).select_from(inflight).where(inflight.c.owner == owner)
    )
    if running >= rules.concurrent_requests:
        raise LimitReached("concurrent_requests", rules.concurrent_requests, 1)
    lease = os.urandom(16).hex()
    connection.execute(
        inflight.insert().values(id=lease, owner=owner, expires_at=now + rules.lease_seconds)
    )
    return lease


def _count_request(connection: Connection, owner: str, now: float, rules: LimitRules) -> None:
    requests, tokens = _upsert(connection, owner, MINUTE, _start(now, MINUTE), requests=1, tokens=0)
    if rules.requests_per_minute is not None and requests > rules.requests_per_minute:
        raise LimitReached("requests_per_minute", rules.requests_per_minute, _left(now, MINUTE))
    if rules.tokens_per_minute is not None and tokens >= rules.tokens_per_minute:
        raise LimitReached("tokens_per_minute", rules.tokens_per_minute, _left(now, MINUTE))


def _upsert(
    connection: Connection, owner: str, span: int, window: int, *, requests: int, tokens: int
) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(rate_windows).values(
        owner=owner, span=span, window=window, requests=requests, tokens=tokens
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[rate_windows.c.owner, rate_windows.c.span, rate_windows.c.window],
        set_={
            "requests": rate_windows.c.requests + insert.excluded.requests,
            "tokens": rate_windows.c.tokens + insert.excluded.tokens,
        },
    ).returning(rate_windows.c.requests, rate_windows.c.tokens)
    return connection.execute(upsert).one()


def _window(owner: str, span: int, window: int) -> tuple[Any, ...]:
    return (
        rate_windows.c.owner == owner,
        rate_windows.c.span == span,
        rate_windows.c.window == window,
    )


def _start(now: float, span: int) -> int:
    return int(now) // span * span


def _left(now: float, span: int) -> int:
    """Whole seconds until the window ends (at least 1)."""
    return max(1, _start(now, span) + span - int(now))

"""Limits per owner, shared by every replica through the database.

Requests and tokens are counted in fixed windows (a minute, a UTC day), one row per
owner and window. A replica claims requests a slice at a time (``claim_requests``),
so most requests cost no database work at all; concurrency is a lease row per slot a
replica holds (``accounting/concurrency.py``), claimed under a per-owner lock (a
PostgreSQL advisory lock; SQLite has one writer). Whatever would go over a limit raises
``LimitReached`` inside the transaction, so nothing is counted for it.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from relaystack.store.base import LimitReached
from relaystack.store.schema import inflight, rate_windows

MINUTE = 60
DAY = 86400


def claim_requests(connection: Connection, owner: str, now: float, want: int, limit: int) -> int:
    """Up to ``want`` of this minute's ``limit`` requests (at least one, or
    ``LimitReached``). The upsert that reads the count also locks the row."""
    window = window_start(now, MINUTE)
    used, _tokens = _upsert(connection, owner, MINUTE, window, requests=0, tokens=0)
    granted = min(want, limit - used)
    if granted <= 0:
        raise LimitReached("requests_per_minute", limit, seconds_left(now, MINUTE))
    _upsert(connection, owner, MINUTE, window, requests=granted, tokens=0)
    return granted


def window_tokens(connection: Connection, owner: str, now: float) -> tuple[int, int]:
    """Tokens counted so far this minute and this UTC day."""
    rows = connection.execute(
        select(rate_windows.c.span, rate_windows.c.tokens).where(
            rate_windows.c.owner == owner,
            ((rate_windows.c.span == MINUTE) & (rate_windows.c.window == window_start(now, MINUTE)))
            | ((rate_windows.c.span == DAY) & (rate_windows.c.window == window_start(now, DAY))),
        )
    )
    spent = dict(rows.tuples().all())
    return spent.get(MINUTE, 0), spent.get(DAY, 0)


def claim_leases(
    connection: Connection, owner: str, now: float, want: int, limit: int, seconds: int
) -> list[str]:
    """Up to ``want`` more of ``owner``'s ``limit`` concurrency slots, as lease rows
    expiring after ``seconds`` (at least one, or ``LimitReached``)."""
    if connection.dialect.name == "postgresql":
        # Two replicas counting at once would both see room for one more.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:owner))"), {"owner": owner})
    connection.execute(
        delete(inflight).where(inflight.c.owner == owner, inflight.c.expires_at < int(now))
    )
    held = connection.scalar(
        select(func.count()).select_from(inflight).where(inflight.c.owner == owner)
    )
    granted = min(want, limit - held)
    if granted <= 0:
        raise LimitReached("concurrent_requests", limit, 1)
    leases = [os.urandom(16).hex() for _ in range(granted)]
    expires_at = int(now) + seconds
    rows = [{"id": lease, "owner": owner, "expires_at": expires_at} for lease in leases]
    connection.execute(inflight.insert(), rows)
    return leases


def renew_leases(connection: Connection, leases: list[str], expires_at: float) -> None:
    connection.execute(
        update(inflight).where(inflight.c.id.in_(leases)).values(expires_at=int(expires_at))
    )


def release_leases(connection: Connection, leases: list[str]) -> None:
    connection.execute(delete(inflight).where(inflight.c.id.in_(leases)))


def count_tokens(connection: Connection, owner: str, now: float, tokens: int) -> None:
    for span in (MINUTE, DAY):
        _upsert(connection, owner, span, window_start(now, span), requests=0, tokens=tokens)


def purge(connection: Connection, before: float) -> None:
    """Forget windows that ended a day before ``before`` and leases that expired."""
    connection.execute(delete(rate_windows).where(rate_windows.c.window < int(before) - DAY))
    connection.execute(delete(inflight).where(inflight.c.expires_at < int(before)))


def window_start(now: float, span: int) -> int:
    return int(now) // span * span


def seconds_left(now: float, span: int) -> int:
    """Whole seconds until the window ends (at least 1)."""
    return max(1, window_start(now, span) + span - int(now))


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

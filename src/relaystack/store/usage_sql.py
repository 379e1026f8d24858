"""Usage rows: added to by every replica (one upsert per row), read by operators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from relaystack.store.base import UsageCounts, UsageKey
from relaystack.store.schema import usage


def add_usage(connection: Connection, counts: dict[UsageKey, UsageCounts]) -> None:
    """Add ``counts`` to the stored totals (rows created as needed)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # Sorted, so that two replicas adding the same rows lock them in one order.
    for key in sorted(counts, key=lambda k: (k.owner, k.day, k.model)):
        added = counts[key]
        insert = dialect.insert(usage).values(
            owner=key.owner,
            day=key.day,
            model=key.model,
            requests=added.requests,
            input_tokens=added.input_tokens,
            output_tokens=added.output_tokens,
        )
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[usage.c.owner, usage.c.day, usage.c.model],
                set_={
                    "requests": usage.c.requests + insert.excluded.requests,
                    "input_tokens": usage.c.input_tokens + insert.excluded.input_tokens,
                    "output_tokens": usage.c.output_tokens + insert.excluded.output_tokens,
                },
            )
        )


def read_usage(
    connection: Connection, owner: str | None, since: str | None, until: str | None
) -> list[dict[str, Any]]:
    """Rows by day, owner and model; ``since`` and ``until`` are days, both included."""
    query = select(usage).order_by(usage.c.day, usage.c.owner, usage.c.model)
    if owner is not None:
        query = query.where(usage.c.owner == owner)
    if since is not None:
        query = query.where(usage.c.day >= since)
    if until is not None:
        query = query.where(usage.c.day <= until)
    # Plain str keys: column names are a str subclass, which orjson refuses as keys.
    return [
        {str(name): value for name, value in row._asdict().items()}
        for row in connection.execute(query)
    ]

"""Usage rows: added to by every replica (one upsert per row), read by operators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from relaystack.store.base import UsageCounts, UsageKey
from relaystack.store.schema import usage


def _upsert(dialect: Any) -> Any:
    insert = dialect.insert(usage)
    return insert.on_conflict_do_update(
        index_elements=[usage.c.owner, usage.c.day, usage.c.model],
        set_={
            "requests": usage.c.requests + insert.excluded.requests,
            "input_tokens": usage.c.input_tokens + insert.excluded.input_tokens,
            "output_tokens": usage.c.output_tokens + insert.excluded.output_tokens,
        },
    )


# Built once per dialect: built per call, SQLAlchemy spent more instructions making the
# statement than the database spent running it (see responses_sql.py).
_UPSERTS = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}


def add_usage(connection: Connection, counts: dict[UsageKey, UsageCounts]) -> None:
    """Add ``counts`` to the stored totals (rows created as needed)."""
    if not counts:
        return
    # Sorted, so that two replicas adding the same rows lock them in one order.
    rows = [
        {
            "owner": key.owner,
            "day": key.day,
            "model": key.model,
            "requests": counts[key].requests,
            "input_tokens": counts[key].input_tokens,
            "output_tokens": counts[key].output_tokens,
        }
        for key in sorted(counts, key=lambda k: (k.owner, k.day, k.model))
    ]
    upsert = _UPSERTS["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    for row in rows:
        connection.execute(upsert, row)


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

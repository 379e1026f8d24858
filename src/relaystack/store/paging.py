"""One page of a listing ordered by a table's serial key, after a cursor id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Select, select

from relaystack.store.base import Order


def page_of(
    connection: Connection,
    query: Select[Any],
    key: Column[Any],
    cursor: Select[Any] | None,
    limit: int,
    order: Order,
) -> tuple[list[Any], bool]:
    """Rows of ``query`` after the row ``cursor`` selects (by ``key``), and whether
    more follow. ``after`` follows the listing order; descending, that is backwards."""
    if cursor is not None:
        position = cursor.scalar_subquery()
        query = query.where(key > position if order == "asc" else key < position)
    query = query.order_by(key.asc() if order == "asc" else key.desc()).limit(limit + 1)
    rows = connection.execute(query).all()
    return rows[:limit], len(rows) > limit


def cursor_of(key: Column[Any], id_column: Column[Any], after: str | None) -> Select[Any] | None:
    return None if after is None else select(key).where(id_column == after)

"""Vector stores, their files and file batches on SQL (functions of a ``Connection``).

A store's status and ``file_counts`` are derived from its files' rows when read, so no
counter can drift. Chunks of a file are replaced in one transaction that also marks
the file completed and bumps the store's revision, and only while the file is still in
the store and in progress: a file removed or cancelled meanwhile keeps no chunks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select

from relaystack.store.base import Order, Page
from relaystack.store.files_schema import (
    file_batches,
    file_chunks,
    vector_store_files,
    vector_stores,
)
from relaystack.store.paging import cursor_of, page_of
from relaystack.wire.json import dumps_str, loads

STATUSES = ("in_progress", "completed", "failed", "cancelled")
_VS = vector_stores.c
_VSF = vector_store_files.c


# ----- stores ----------------------------------------------------------------------


def store_object(row: Any, counts: dict[str, int], now: int) -> dict[str, Any]:
    if row.expires_at is not None and row.expires_at <= now:
        status = "expired"
    else:
        status = "in_progress" if counts["in_progress"] else "completed"
    return {
        "id": row.id,
        "object": "vector_store",
        "created_at": row.created_at,
        "name": row.name,
        "usage_bytes": counts.pop("usage_bytes"),
        "file_counts": counts,
        "status": status,
        "expires_after": loads(row.expires_after) if row.expires_after else None,
        "expires_at": row.expires_at,
        "last_active_at": row.last_active_at,
        "metadata": loads(row.metadata),
    }


def _counts(connection: Connection, where: Any) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    usage = 0
    rows = connection.execute(
        select(_VSF.status, func.count(), func.coalesce(func.sum(_VSF.usage_bytes), 0))
        .where(where)
        .group_by(_VSF.status)
    )
    for status, count, used in rows:
        counts[status] = int(count)
        usage += int(used)
    return {**counts, "total": sum(counts.values()), "usage_bytes": usage}


def _store_row(connection: Connection, store_id: str, owner: str) -> Any | None:
    return connection.execute(
        select(vector_stores).where(_VS.id == store_id, _VS.owner == owner)
    ).first()


def _store(connection: Connection, row: Any, now: int) -> dict[str, Any]:
    return store_object(row, _counts(connection, _VSF.vector_store_id == row.id), now)


def insert_store(connection: Connection, row: dict[str, Any], now: int) -> dict[str, Any]:
    connection.execute(vector_stores.insert().values(**row))
    found = _store_row(connection, row["id"], row["owner"])
    return _store(connection, found, now)


def get_store(connection: Connection, store_id: str, owner: str, now: int) -> dict | None:
    row = _store_row(connection, store_id, owner)
    return None if row is None else _store(connection, row, now)


def store_settings(connection: Connection, store_id: str, owner: str) -> Any | None:
    """The row alone (embedding model, revision), without counting its files."""
    return _store_row(connection, store_id, owner)


def list_stores(
    connection: Connection, owner: str, after: str | None, limit: int, order: Order, now: int
) -> Page:
    rows, more = page_of(
        connection,
        select(vector_stores).where(_VS.owner == owner),
        _VS.pk,
        cursor_of(_VS.pk, _VS.id, after),
        limit,
        order,
    )
    return Page([_store(connection, row, now) for row in rows], more)


def touch_stores(connection: Connection, store_ids: list[str], now: int) -> None:
    """The stores were used at ``now``: ``last_active_at`` moves, and ``expires_at`` with
    it (it is ``last_active_at`` + ``expires_after.days``); an expired store stays so."""
    connection.execute(
        vector_stores.update()
        .where(
            _VS.id.in_(store_ids),
            _VS.last_active_at < now,
            or_(_VS.expires_at.is_(None), _VS.expires_at > now),
        )
        .values(
            last_active_at=now,
            expires_at=case(
                (_VS.expires_at.is_(None), None),
                else_=_VS.expires_at - _VS.last_active_at + now,
            ),
        )
    )


def update_store(
    connection: Connection, store_id: str, owner: str, changes: dict[str, Any], now: int
) -> dict | None:
    if _store_row(connection, store_id, owner) is None:
        return None
    touch_stores(connection, [store_id], now)
    if changes:
        connection.execute(
            vector_stores.update().where(_VS.id == store_id, _VS.owner == owner).values(**changes)
        )
    return get_store(connection, store_id, owner, now)


def delete_store(connection: Connection, store_id: str, owner: str) -> bool:
    if _store_row(connection, store_id, owner) is None:
        return False
    connection.execute(file_chunks.delete().where(file_chunks.c.vector_store_id == store_id))
    connection.execute(vector_store_files.delete().where(_VSF.vector_store_id == store_id))
    connection.execute(file_batches.delete().where(file_batches.c.vector_store_id == store_id))
    connection.execute(vector_stores.delete().where(_VS.id == store_id))
    return True


# Built once: every file_search turn and /search reads it (see chunks_sql.py).
_REVISIONS = select(
    _VS.id, _VS.revision, _VS.embedding_model, _VS.expires_at, _VS.last_active_at
).where(_VS.id.in_(bindparam("store_ids", expanding=True)), _VS.owner == bindparam("owner_id"))


def revisions(connection: Connection, store_ids: list[str], owner: str) -> dict[str, Any]:
    """The owner's stores among ``store_ids``: id -> row (revision, embedding model)."""
    rows = connection.execute(_REVISIONS, {"store_ids": store_ids, "owner_id": owner})
    return {row.id: row for row in rows}


# ----- files in a store --------------------------------------------------------------


def store_file_object(row: Any) -> dict[str, Any]:
    return {
        "id": row.file_id,
        "object": "vector_store.file",
        "usage_bytes": row.usage_bytes,
        "created_at": row.created_at,
        "vector_store_id": row.vector_store_id,
        "status": row.status,
        "last_error": loads(row.last_error) if row.last_error else None,
        "chunking_strategy": loads(row.chunking_strategy),
        "attributes": loads(row.attributes),
    }


def add_store_files(
    connection: Connection, store_id: str, owner: str, rows: list[dict[str, Any]], now: int
) -> list[dict[str, Any]] | None:
    """Add files (a file already in the store is queued again with the new settings)."""
    if _store_row(connection, store_id, owner) is None:
        return None
    for row in rows:
        connection.execute(
            vector_store_files.delete().where(
                _VSF.vector_store_id == store_id, _VSF.file_id == row["file_id"]
            )
        )
        connection.execute(
            vector_store_files.insert().values(
                vector_store_id=store_id,
                owner=owner,
                created_at=now,
                status="in_progress",
                attributes=dumps_str(row["attributes"]),
                chunking_strategy=dumps_str(row["chunking_strategy"]),
                file_id=row["file_id"],
                batch_id=row.get("batch_id"),
            )
        )
    touch_stores(connection, [store_id], now)
    ids = [row["file_id"] for row in rows]
    found = connection.execute(
        select(vector_store_files).where(_VSF.vector_store_id == store_id, _VSF.file_id.in_(ids))
    )
    by_id = {row.file_id: store_file_object(row) for row in found}
    return [by_id[file_id] for file_id in ids]


def _store_file_where(store_id: str, file_id: str, owner: str) -> tuple[Any, ...]:
    return (_VSF.vector_store_id == store_id, _VSF.file_id == file_id, _VSF.owner == owner)


def get_store_file(connection: Connection, store_id: str, file_id: str, owner: str) -> dict | None:
    row = connection.execute(
        select(vector_store_files).where(*_store_file_where(store_id, file_id, owner))
    ).first()
    return None if row is None else store_file_object(row)


def list_store_files(
    connection: Connection,
    store_id: str,
    owner: str,
    status: str | None,
    batch_id: str | None,
    after: str | None,
    limit: int,
    order: Order,
) -> Page | None:
    if _store_row(connection, store_id, owner) is None:
        return None
    query = select(vector_store_files).where(_VSF.vector_store_id == store_id)
    if status is not None:
        query = query.where(_VSF.status == status)
    if batch_id is not None:
        query = query.where(_VSF.batch_id == batch_id)
    cursor = None
    if after is not None:
        cursor = select(_VSF.pk).where(_VSF.vector_store_id == store_id, _VSF.file_id == after)
    rows, more = page_of(connection, query, _VSF.pk, cursor, limit, order)
    return Page([store_file_object(row) for row in rows], more)


def update_store_file(
    connection: Connection, store_id: str, file_id: str, owner: str, attributes: dict
) -> dict | None:
    connection.execute(
        vector_store_files.update()
        .where(*_store_file_where(store_id, file_id, owner))
        .values(attributes=dumps_str(attributes))
    )
    return get_store_file(connection, store_id, file_id, owner)


def delete_store_file(connection: Connection, store_id: str, file_id: str, owner: str) -> bool:
    deleted = connection.execute(
        vector_store_files.delete().where(*_store_file_where(store_id, file_id, owner))
    )
    if deleted.rowcount == 0:
        return False
    connection.execute(
        file_chunks.delete().where(
            file_chunks.c.vector_store_id == store_id, file_chunks.c.file_id == file_id
        )
    )
    _bump(connection, store_id)
    return True


def _bump(connection: Connection, store_id: str) -> None:
    connection.execute(
        vector_stores.update().where(_VS.id == store_id).values(revision=_VS.revision + 1)
    )


def store_file_text(connection: Connection, store_id: str, file_id: str, owner: str) -> list | None:
    """The file's chunks in order (the ``/content`` of a file in a store)."""
    if get_store_file(connection, store_id, file_id, owner) is None:
        return None
    return list(
        connection.scalars(
            select(file_chunks.c.text)
            .where(file_chunks.c.vector_store_id == store_id, file_chunks.c.file_id == file_id)
            .order_by(file_chunks.c.position)
        )
    )


# ----- ingestion ---------------------------------------------------------------------


def pending_files(connection: Connection) -> list[Any]:
    """Files still to ingest (queued here, or left by a replica that stopped)."""
    return list(
        connection.execute(
            select(_VSF.vector_store_id, _VSF.file_id, _VSF.owner, _VSF.chunking_strategy)
            .where(_VSF.status == "in_progress")
            .order_by(_VSF.pk)
        )
    )


def store_chunks(
    connection: Connection,
    store_id: str,
    file_id: str,
    chunks: list[tuple[str, bytes]],
    usage_bytes: int,
) -> bool:
    """Replace the file's chunks and mark it completed, if it is still in progress."""
    claimed = connection.execute(
        vector_store_files.update()
        .where(
            _VSF.vector_store_id == store_id,
            _VSF.file_id == file_id,
            _VSF.status == "in_progress",
        )
        .values(status="completed", usage_bytes=usage_bytes, last_error=None)
    )
    if claimed.rowcount == 0:
        return False
    connection.execute(
        file_chunks.delete().where(
            file_chunks.c.vector_store_id == store_id, file_chunks.c.file_id == file_id
        )
    )
    if chunks:
        connection.execute(
            file_chunks.insert(),
            [
                {
                    "vector_store_id": store_id,
                    "file_id": file_id,
                    "position": position,
                    "text": text,
                    "embedding": embedding,
                }
                for position, (text, embedding) in enumerate(chunks)
            ],
        )
    _bump(connection, store_id)
    return True


def fail_file(connection: Connection, store_id: str, file_id: str, code: str, message: str) -> None:
    connection.execute(
        vector_store_files.update()
        .where(
            _VSF.vector_store_id == store_id,
            _VSF.file_id == file_id,
            _VSF.status == "in_progress",
        )
        .values(status="failed", last_error=dumps_str({"code": code, "message": message}))
    )


# ----- batches -----------------------------------------------------------------------


def insert_batch(connection: Connection, row: dict[str, Any]) -> None:
    connection.execute(file_batches.insert().values(**row))


def get_batch(connection: Connection, store_id: str, batch_id: str, owner: str) -> dict | None:
    row = connection.execute(
        select(file_batches).where(
            file_batches.c.id == batch_id,
            file_batches.c.vector_store_id == store_id,
            file_batches.c.owner == owner,
        )
    ).first()
    if row is None:
        return None
    counts = _counts(connection, _VSF.batch_id == batch_id)
    counts.pop("usage_bytes")
    if counts["in_progress"]:
        status = "in_progress"
    elif row.cancelled:
        status = "cancelled"
    elif counts["failed"] and not counts["completed"]:
        status = "failed"
    else:
        status = "completed"
    return {
        "id": row.id,
        "object": "vector_store.files_batch",
        "created_at": row.created_at,
        "vector_store_id": row.vector_store_id,
        "status": status,
        "file_counts": counts,
    }


def cancel_batch(connection: Connection, store_id: str, batch_id: str, owner: str) -> dict | None:
    """Files of the batch not yet ingested are cancelled (their ingestion keeps nothing)."""
    marked = connection.execute(
        file_batches.update()
        .where(
            file_batches.c.id == batch_id,
            file_batches.c.vector_store_id == store_id,
            file_batches.c.owner == owner,
        )
        .values(cancelled=1)
    )
    if marked.rowcount == 0:
        return None
    connection.execute(
        vector_store_files.update()
        .where(_VSF.batch_id == batch_id, _VSF.status == "in_progress")
        .values(status="cancelled")
    )
    return get_batch(connection, store_id, batch_id, owner)

"""Files on SQL, as functions of a ``Connection`` (see runners.py).

A file's bytes are on disk (``blobs.py``) or, when replicas share the database, in
``file_blobs``. Deleting a file takes its chunks out of every vector store it is in,
in the same transaction, and bumps those stores' revisions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from relaystack.store.base import Order, Page
from relaystack.store.files_schema import (
    file_blobs,
    file_chunks,
    files,
    vector_store_files,
    vector_stores,
)
from relaystack.store.paging import cursor_of, page_of

_COLUMNS = (
    files.c.id,
    files.c.created_at,
    files.c.expires_at,
    files.c.filename,
    files.c.purpose,
    files.c.bytes,
    files.c.in_database,
)


def file_object(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "filename": row.filename,
        "purpose": row.purpose,
        "status": "processed",
        "status_details": None,
    }


def _live(owner: str, now: int) -> tuple[Any, ...]:
    return (files.c.owner == owner, or_(files.c.expires_at.is_(None), files.c.expires_at > now))


def insert_file(connection: Connection, row: dict[str, Any], content: bytes | None) -> None:
    connection.execute(files.insert().values(**row, in_database=int(content is not None)))
    if content is not None:
        connection.execute(file_blobs.insert().values(file_id=row["id"], content=content))


def get_file(connection: Connection, file_id: str, owner: str, now: int) -> Any | None:
    return connection.execute(
        select(*_COLUMNS).where(files.c.id == file_id, *_live(owner, now))
    ).first()


def list_files(
    connection: Connection,
    owner: str,
    purpose: str | None,
    after: str | None,
    limit: int,
    order: Order,
    now: int,
) -> Page:
    query = select(*_COLUMNS).where(*_live(owner, now))
    if purpose is not None:
        query = query.where(files.c.purpose == purpose)
    rows, more = page_of(
        connection, query, files.c.pk, cursor_of(files.c.pk, files.c.id, after), limit, order
    )
    return Page([file_object(row) for row in rows], more)


def blob_in_database(connection: Connection, file_id: str) -> bytes | None:
    return connection.scalar(select(file_blobs.c.content).where(file_blobs.c.file_id == file_id))


def delete_file(connection: Connection, file_id: str, owner: str) -> Any | None:
    """Delete the file, its blob row and its chunks everywhere; the deleted row."""
    row = connection.execute(
        select(*_COLUMNS).where(files.c.id == file_id, files.c.owner == owner)
    ).first()
    if row is None:
        return None
    stores = connection.scalars(
        select(vector_store_files.c.vector_store_id).where(vector_store_files.c.file_id == file_id)
    ).all()
    connection.execute(file_chunks.delete().where(file_chunks.c.file_id == file_id))
    connection.execute(vector_store_files.delete().where(vector_store_files.c.file_id == file_id))
    if stores:
        connection.execute(
            vector_stores.update()
            .where(vector_stores.c.id.in_(stores))
            .values(revision=vector_stores.c.revision + 1)
        )
    connection.execute(file_blobs.delete().where(file_blobs.c.file_id == file_id))
    connection.execute(files.delete().where(files.c.id == file_id))
    return row


def expired_files(connection: Connection, now: int, limit: int) -> list[Any]:
    """Up to ``limit`` files whose ``expires_at`` has passed: ``id`` and ``owner``."""
    return list(
        connection.execute(
            select(files.c.id, files.c.owner)
            .where(files.c.expires_at.is_not(None), files.c.expires_at <= now)
            .order_by(files.c.expires_at)
            .limit(limit)
        )
    )

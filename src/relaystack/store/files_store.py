"""``FileStore``: files, vector stores and chunks over the store's runner.

Each method hands one query function (files_sql.py, vector_stores_sql.py,
chunks_sql.py) to the runner, like ``SqlStore``. Bytes go to ``file_blobs`` when
``blobs`` is None (PostgreSQL: every replica sees them), else to disk.
"""

from __future__ import annotations

import asyncio
from typing import Any

from relaystack.store import chunks_sql, files_sql
from relaystack.store import vector_stores_sql as vs
from relaystack.store.base import Order, Page
from relaystack.store.blobs import DiskBlobs
from relaystack.store.keys import lookup_key as key
from relaystack.store.runners import Runner


class SqlFileStore:
    def __init__(self, runner: Runner, blobs: DiskBlobs | None) -> None:
        self.runner = runner
        self.blobs = blobs

    @property
    def dialect(self) -> str:
        return self.runner.dialect

    # ----- files -------------------------------------------------------------------

    async def save_file(self, row: dict[str, Any], content: bytes) -> dict[str, Any]:
        if self.blobs is None:
            await self.runner.write(files_sql.insert_file, row, content)
        else:
            await asyncio.to_thread(self.blobs.write, row["id"], content)
            try:
                await self.runner.write(files_sql.insert_file, row, None)
            except BaseException:
                await asyncio.to_thread(self.blobs.delete, row["id"])
                raise
        return files_sql.file_object(_Row({**row, "in_database": 0}))

    async def get_file(self, file_id: str, owner: str, now: int) -> dict[str, Any] | None:
        row = await self.runner.read(files_sql.get_file, key(file_id), owner, now)
        return None if row is None else files_sql.file_object(row)

    async def file_content(
        self, file_id: str, owner: str, now: int
    ) -> tuple[dict[str, Any], bytes] | None:
        row = await self.runner.read(files_sql.get_file, key(file_id), owner, now)
        if row is None:
            return None
        if row.in_database:
            content = await self.runner.read(files_sql.blob_in_database, row.id)
        else:
            content = await asyncio.to_thread(self._disk().read, row.id)
        return None if content is None else (files_sql.file_object(row), content)

    async def list_files(
        self,
        owner: str,
        *,
        purpose: str | None,
        after: str | None,
        limit: int,
        order: Order,
        now: int,
    ) -> Page:
        return await self.runner.read(
            files_sql.list_files, owner, purpose, key(after), limit, order, now
        )

    async def delete_file(self, file_id: str, owner: str) -> bool:
        row = await self.runner.write(files_sql.delete_file, key(file_id), owner)
        if row is None:
            return False
        if not row.in_database:
            await asyncio.to_thread(self._disk().delete, row.id)
        return True

    async def expire_files(self, now: int, limit: int) -> int:
        """Delete up to ``limit`` files expired by ``now`` as ``delete_file`` does (chunks
        out of every store, blob gone); how many. Replicas may race: a file another one
        deleted first is simply not found."""
        rows = await self.runner.read(files_sql.expired_files, now, limit)
        for row in rows:
            await self.delete_file(row.id, row.owner)
        return len(rows)

    def _disk(self) -> DiskBlobs:
        if self.blobs is None:
            raise LookupError("this store keeps no files on disk")
        return self.blobs

    # ----- vector stores -----------------------------------------------------------

    async def create_store(self, row: dict[str, Any], now: int) -> dict[str, Any]:
        return await self.runner.write(vs.insert_store, row, now)

    async def get_store(self, store_id: str, owner: str, now: int) -> dict[str, Any] | None:
        return await self.runner.read(vs.get_store, key(store_id), owner, now)

    async def store_settings(self, store_id: str, owner: str) -> Any | None:
        return await self.runner.read(vs.store_settings, key(store_id), owner)

    async def list_stores(
        self, owner: str, *, after: str | None, limit: int, order: Order, now: int
    ) -> Page:
        return await self.runner.read(vs.list_stores, owner, key(after), limit, order, now)

    async def update_store(
        self, store_id: str, owner: str, changes: dict[str, Any], now: int
    ) -> dict[str, Any] | None:
        return await self.runner.write(vs.update_store, key(store_id), owner, changes, now)

    async def touch_stores(self, store_ids: list[str], now: int) -> None:
        await self.runner.write(vs.touch_stores, store_ids, now)

    async def delete_store(self, store_id: str, owner: str) -> bool:
        return await self.runner.write(vs.delete_store, key(store_id), owner)

    async def add_store_files(
        self, store_id: str, owner: str, rows: list[dict[str, Any]], now: int
    ) -> list[dict[str, Any]] | None:
        return await self.runner.write(vs.add_store_files, key(store_id), owner, rows, now)

    async def get_store_file(self, store_id: str, file_id: str, owner: str) -> dict | None:
        return await self.runner.read(vs.get_store_file, key(store_id), key(file_id), owner)

    async def list_store_files(
        self,
        store_id: str,
        owner: str,
        *,
        status: str | None,
        batch_id: str | None,
        after: str | None,
        limit: int,
        order: Order,
    ) -> Page | None:
        return await self.runner.read(
            vs.list_store_files, key(store_id), owner, status, batch_id, key(after), limit, order
        )

    async def update_store_file(
        self, store_id: str, file_id: str, owner: str, attributes: dict[str, Any]
    ) -> dict | None:
        return await self.runner.write(
            vs.update_store_file, key(store_id), key(file_id), owner, attributes
        )

    async def delete_store_file(self, store_id: str, file_id: str, owner: str) -> bool:
        return await self.runner.write(vs.delete_store_file, key(store_id), key(file_id), owner)

    async def store_file_text(self, store_id: str, file_id: str, owner: str) -> list[str] | None:
        return await self.runner.read(vs.store_file_text, key(store_id), key(file_id), owner)

    # ----- batches -----------------------------------------------------------------

    async def create_batch(self, row: dict[str, Any]) -> None:
        await self.runner.write(vs.insert_batch, row)

    async def get_batch(self, store_id: str, batch_id: str, owner: str) -> dict | None:
        return await self.runner.read(vs.get_batch, key(store_id), key(batch_id), owner)

    async def cancel_batch(self, store_id: str, batch_id: str, owner: str) -> dict | None:
        return await self.runner.write(vs.cancel_batch, key(store_id), key(batch_id), owner)

    # ----- ingestion ---------------------------------------------------------------

    async def pending_files(self) -> list[Any]:
        return await self.runner.read(vs.pending_files)

    async def store_chunks(
        self, store_id: str, file_id: str, chunks: list[tuple[str, bytes]], usage_bytes: int
    ) -> bool:
        return await self.runner.write(vs.store_chunks, store_id, file_id, chunks, usage_bytes)

    async def fail_file(self, store_id: str, file_id: str, code: str, message: str) -> None:
        await self.runner.write(vs.fail_file, store_id, file_id, code, message)

    # ----- search ------------------------------------------------------------------

    async def revisions(self, store_ids: list[str], owner: str) -> dict[str, Any]:
        return await self.runner.read(vs.revisions, [key(s) for s in store_ids], owner)

    async def store_vectors(self, store_id: str) -> list[Any]:
        return await self.runner.read(chunks_sql.store_vectors, store_id)

    async def searchable_files(self, store_ids: list[str]) -> list[Any]:
        return await self.runner.read(chunks_sql.searchable_files, store_ids)

    async def keyword_hits(
        self, store_ids: list[str], words: list[str], file_ids: list[str] | None, limit: int
    ) -> list[int]:
        return await self.runner.read(chunks_sql.keyword_hits, store_ids, words, file_ids, limit)

    async def chunks_found(self, pks: list[int], now: int | None = None) -> dict[int, Any]:
        return await self.runner.read(chunks_sql.chunks_found, pks, now)


class _Row:
    """A dict read like a result row (``row.id``)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

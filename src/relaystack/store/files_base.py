"""What the retrieval engine needs from storage for files, vector stores and chunks.

``files_store.SqlFileStore`` implements it over the store's runner; the engine and the
HTTP layer see only this interface.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from relaystack.store.base import Order, Page

_WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 32


def query_words(query: str) -> list[str]:
    """The words of a query, as both full-text engines will read them (no operators)."""
    return list(dict.fromkeys(_WORD.findall(query.lower())))[:MAX_QUERY_WORDS]


class FileStore(Protocol):
    """Every method takes the owner where rows are owned; another owner's file, store
    or batch answers exactly as a missing one (None / False)."""

    async def save_file(self, row: dict[str, Any], content: bytes) -> dict[str, Any]: ...

    async def get_file(self, file_id: str, owner: str, now: int) -> dict[str, Any] | None: ...

    async def file_content(
        self, file_id: str, owner: str, now: int
    ) -> tuple[dict[str, Any], bytes] | None: ...

    async def list_files(
        self,
        owner: str,
        *,
        purpose: str | None,
        after: str | None,
        limit: int,
        order: Order,
        now: int,
    ) -> Page: ...

    async def delete_file(self, file_id: str, owner: str) -> bool: ...

    async def expire_files(self, now: int, limit: int) -> int: ...

    async def create_store(self, row: dict[str, Any], now: int) -> dict[str, Any]: ...

    async def get_store(self, store_id: str, owner: str, now: int) -> dict[str, Any] | None: ...

    async def store_settings(self, store_id: str, owner: str) -> Any | None: ...

    async def list_stores(
        self, owner: str, *, after: str | None, limit: int, order: Order, now: int
    ) -> Page: ...

    async def update_store(
        self, store_id: str, owner: str, changes: dict[str, Any], now: int
    ) -> dict[str, Any] | None: ...

    async def touch_stores(self, store_ids: list[str], now: int) -> None: ...

    async def delete_store(self, store_id: str, owner: str) -> bool: ...

    async def add_store_files(
        self, store_id: str, owner: str, rows: list[dict[str, Any]], now: int
    ) -> list[dict[str, Any]] | None: ...

    async def get_store_file(self, store_id: str, file_id: str, owner: str) -> dict | None: ...

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
    ) -> Page | None: ...

    async def update_store_file(
        self, store_id: str, file_id: str, owner: str, attributes: dict[str, Any]
    ) -> dict | None: ...

    async def delete_store_file(self, store_id: str, file_id: str, owner: str) -> bool: ...

    async def store_file_text(
        self, store_id: str, file_id: str, owner: str
    ) -> list[str] | None: ...

    async def create_batch(self, row: dict[str, Any]) -> None: ...

    async def get_batch(self, store_id: str, batch_id: str, owner: str) -> dict | None: ...

    async def cancel_batch(self, store_id: str, batch_id: str, owner: str) -> dict | None: ...

    async def pending_files(self) -> list[Any]: ...

    async def store_chunks(
        self, store_id: str, file_id: str, chunks: list[tuple[str, bytes]], usage_bytes: int
    ) -> bool: ...

    async def fail_file(self, store_id: str, file_id: str, code: str, message: str) -> None: ...

    async def revisions(self, store_ids: list[str], owner: str) -> dict[str, Any]: ...

    async def store_vectors(self, store_id: str) -> list[Any]: ...

    async def searchable_files(self, store_ids: list[str]) -> list[Any]: ...

    async def keyword_hits(
        self, store_ids: list[str], words: list[str], file_ids: list[str] | None, limit: int
    ) -> list[int]: ...

    async def chunks_found(self, pks: list[int], now: int | None = None) -> dict[int, Any]: ...

"""Vector stores, their files and file batches, and search: the engine behind
``/v1/vector_stores``. Files are checked to be the owner's when added; ingestion runs
in the background (``ingest``); search is ``search.Retriever``'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relaystack.errors import InvalidRequest, NotFound
from relaystack.ids import Clock, IdSource
from relaystack.retrieval.chunking import ChunkingStrategy, stored_strategy
from relaystack.retrieval.files_service import file_not_found
from relaystack.retrieval.ingest import Ingestor, Job
from relaystack.retrieval.rewrite import rewrite_query
from relaystack.retrieval.search import Retriever
from relaystack.retrieval.types import (
    CreateBatchRequest,
    CreateStoreFileRequest,
    CreateVectorStoreRequest,
    SearchRequest,
    UpdateStoreFileRequest,
    UpdateVectorStoreRequest,
)
from relaystack.store.base import Order, Page
from relaystack.store.files_base import FileStore
from relaystack.wire.json import dumps_str

DAY = 86400


def store_not_found(store_id: str) -> NotFound:
    return NotFound(f"No vector store found with id '{store_id}'.", code="not_found")


def store_file_not_found(file_id: str) -> NotFound:
    return NotFound(f"No file found with id '{file_id}' in this vector store.", code="not_found")


@dataclass
class VectorStoresService:
    files: FileStore
    ingestor: Ingestor
    retriever: Retriever
    embedding_model: str
    ids: IdSource = field(default_factory=IdSource)
    clock: Clock = field(default_factory=Clock)

    # ----- stores --------------------------------------------------------------------

    async def create(self, request: CreateVectorStoreRequest, owner: str) -> dict[str, Any]:
        now = self.clock.seconds()
        file_rows = await self._owned_files(
            owner,
            [(file_id, None, request.chunking_strategy) for file_id in request.file_ids or []],
            "file_ids",
        )
        expires = request.expires_after
        row: dict[str, Any] = {
            "id": self.ids("vs"),
            "owner": owner,
            "created_at": now,
            "last_active_at": now,
            "name": request.name,
            "metadata": dumps_str(request.metadata or {}),
            "expires_after": dumps_str(expires.model_dump()) if expires else None,
            "expires_at": now + expires.days * DAY if expires else None,
            "embedding_model": self.embedding_model,
        }
        await self.files.create_store(row, now)
        if file_rows:
            await self._add(row["id"], owner, file_rows)
        return await self.get(row["id"], owner)

    async def get(self, store_id: str, owner: str) -> dict[str, Any]:
        found = await self.files.get_store(store_id, owner, self.clock.seconds())
        if found is None:
            raise store_not_found(store_id)
        return found

    async def list_stores(self, owner: str, *, after: str | None, limit: int, order: Order) -> Page:
        return await self.files.list_stores(
            owner, after=after, limit=limit, order=order, now=self.clock.seconds()
        )

    async def update(
        self, store_id: str, request: UpdateVectorStoreRequest, owner: str
    ) -> dict[str, Any]:
        now = self.clock.seconds()
        changes: dict[str, Any] = {}  # the store moves ``last_active_at`` itself
        given = request.model_fields_set
        if "name" in given:
            changes["name"] = request.name
        if "metadata" in given:
            changes["metadata"] = dumps_str(request.metadata or {})
        if "expires_after" in given:
            expires = request.expires_after
            changes["expires_after"] = dumps_str(expires.model_dump()) if expires else None
            changes["expires_at"] = now + expires.days * DAY if expires else None
            changes["last_active_at"] = now  # a new policy counts from now, even if expired
        found = await self.files.update_store(store_id, owner, changes, now)
        if found is None:
            raise store_not_found(store_id)
        return found

    async def delete(self, store_id: str, owner: str) -> dict[str, Any]:
        if not await self.files.delete_store(store_id, owner):
            raise store_not_found(store_id)
        return {"id": store_id, "object": "vector_store.deleted", "deleted": True}

    # ----- files in a store ----------------------------------------------------------

    async def add_file(
        self, store_id: str, request: CreateStoreFileRequest, owner: str
    ) -> dict[str, Any]:
        rows = await self._owned_files(
            owner, [(request.file_id, request.attributes, request.chunking_strategy)], "file_id"
        )
        return (await self._add(store_id, owner, rows))[0]

    async def get_file(self, store_id: str, file_id: str, owner: str) -> dict[str, Any]:
        found = await self.files.get_store_file(store_id, file_id, owner)
        if found is None:
            raise store_file_not_found(file_id)
        return found

    async def list_files(
        self,
        store_id: str,
        owner: str,
        *,
        status: str | None,
        batch_id: str | None = None,
        after: str | None,
        limit: int,
        order: Order,
    ) -> Page:
        page = await self.files.list_store_files(
            store_id,
            owner,
            status=status,
            batch_id=batch_id,
            after=after,
            limit=limit,
            order=order,
        )
        if page is None:
            raise store_not_found(store_id)
        return page

    async def update_file(
        self, store_id: str, file_id: str, request: UpdateStoreFileRequest, owner: str
    ) -> dict[str, Any]:
        found = await self.files.update_store_file(
            store_id, file_id, owner, dict(request.attributes or {})
        )
        if found is None:
            raise store_file_not_found(file_id)
        return found

    async def delete_file(self, store_id: str, file_id: str, owner: str) -> dict[str, Any]:
        if not await self.files.delete_store_file(store_id, file_id, owner):
            raise store_file_not_found(file_id)
        return {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}

    async def file_content(self, store_id: str, file_id: str, owner: str) -> dict[str, Any]:
        texts = await self.files.store_file_text(store_id, file_id, owner)
        if texts is None:
            raise store_file_not_found(file_id)
        return {
            "object": "vector_store.file_content.page",
            "data": [{"type": "text", "text": text} for text in texts],
            "has_more": False,
            "next_page": None,
        }

    # ----- batches -------------------------------------------------------------------

    async def create_batch(
        self, store_id: str, request: CreateBatchRequest, owner: str
    ) -> dict[str, Any]:
        wanted: list[tuple[str, Any, ChunkingStrategy | None]] = [
            (file_id, request.attributes, request.chunking_strategy)
            for file_id in request.file_ids or []
        ]
        wanted += [
            (item.file_id, item.attributes, item.chunking_strategy or request.chunking_strategy)
            for item in request.files or []
        ]
        if not wanted:
            raise InvalidRequest("Give 'file_ids' or 'files'.", param="file_ids")
        if await self.files.store_settings(store_id, owner) is None:
            raise store_not_found(store_id)
        rows = await self._owned_files(owner, wanted, "file_ids")
        batch_id = self.ids("vsfb")
        await self.files.create_batch(
            {
                "id": batch_id,
                "vector_store_id": store_id,
                "owner": owner,
                "created_at": self.clock.seconds(),
            }
        )
        await self._add(store_id, owner, [{**row, "batch_id": batch_id} for row in rows])
        return await self.get_batch(store_id, batch_id, owner)

    async def get_batch(self, store_id: str, batch_id: str, owner: str) -> dict[str, Any]:
        found = await self.files.get_batch(store_id, batch_id, owner)
        if found is None:
            raise NotFound(f"No file batch found with id '{batch_id}'.", code="not_found")
        return found

    async def cancel_batch(self, store_id: str, batch_id: str, owner: str) -> dict[str, Any]:
        found = await self.files.cancel_batch(store_id, batch_id, owner)
        if found is None:
            raise NotFound(f"No file batch found with id '{batch_id}'.", code="not_found")
        return found

    # ----- search --------------------------------------------------------------------

    async def search(self, store_id: str, request: SearchRequest, owner: str) -> dict[str, Any]:
        queries = [request.query] if isinstance(request.query, str) else list(request.query)
        if request.rewrite_query:
            queries = [rewrite_query(query) for query in queries]
        hits = await self.retriever.search(
            owner,
            [store_id],
            queries,
            max_results=request.max_num_results,
            filters=request.filters,
            ranking=request.ranking_options,
        )
        return {
            "object": "vector_store.search_results.page",
            "search_query": queries,
            "data": [
                {
                    "file_id": hit.file_id,
                    "filename": hit.filename,
                    "score": hit.score,
                    "attributes": hit.attributes,
                    "content": [{"type": "text", "text": hit.text}],
                }
                for hit in hits
            ],
            "has_more": False,
            "next_page": None,
        }

    # ----- shared --------------------------------------------------------------------

    async def _owned_files(
        self,
        owner: str,
        wanted: list[tuple[str, Any, ChunkingStrategy | None]],
        param: str,
    ) -> list[dict[str, Any]]:
        now = self.clock.seconds()
        rows: dict[str, dict[str, Any]] = {}
        # A file named twice is added once, with the settings it was named with last
        # (a batch's ``files`` entry after its ``file_ids``): one row, one ingestion.
        for file_id, attributes, chunking in wanted:
            if file_id not in rows and await self.files.get_file(file_id, owner, now) is None:
                raise file_not_found(file_id, param)
            rows[file_id] = {
                "file_id": file_id,
                "attributes": dict(attributes or {}),
                "chunking_strategy": stored_strategy(chunking),
            }
        return list(rows.values())

    async def _add(
        self, store_id: str, owner: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        added = await self.files.add_store_files(store_id, owner, rows, self.clock.seconds())
        if added is None:
            raise store_not_found(store_id)
        for row in rows:
            self.ingestor.enqueue(Job(store_id, row["file_id"], owner, row["chunking_strategy"]))
        return added

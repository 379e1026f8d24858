"""``/v1/vector_stores`` with ``/files``, ``/file_batches`` and ``/search``: HTTP in and
out; ``VectorStoresService`` does the rest."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.body import body_schema, typed_body
from relaystack.api.context import owner_of
from relaystack.api.json import json_response
from relaystack.api.query import page_query, page_response
from relaystack.errors import InvalidRequest
from relaystack.retrieval.stores_service import VectorStoresService
from relaystack.retrieval.types import (
    CreateBatchRequest,
    CreateStoreFileRequest,
    CreateVectorStoreRequest,
    SearchRequest,
    UpdateStoreFileRequest,
    UpdateVectorStoreRequest,
)

router = APIRouter()
_STATUSES = ("in_progress", "completed", "failed", "cancelled")


def _service(request: Request) -> VectorStoresService:
    return request.app.state.vector_stores


def _status_filter(request: Request) -> str | None:
    status = request.query_params.get("filter")
    if status is not None and status not in _STATUSES:
        raise InvalidRequest(
            f"Invalid value for 'filter': '{status}'. Supported values are: "
            + ", ".join(f"'{name}'" for name in _STATUSES)
            + ".",
            param="filter",
            code="invalid_value",
        )
    return status


# ----- stores ------------------------------------------------------------------------


@router.post(
    "/v1/vector_stores",
    summary="Create a vector store",
    openapi_extra=body_schema(CreateVectorStoreRequest),
)
async def create_store(request: Request) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CreateVectorStoreRequest)
    return json_response(await _service(request).create(body, owner))


@router.get("/v1/vector_stores", summary="List vector stores")
async def list_stores(request: Request) -> Response:
    owner = owner_of(request)
    page = await _service(request).list_stores(
        owner,
        **page_query(request),
    )
    return page_response(page)


@router.get("/v1/vector_stores/{store_id}", summary="Retrieve a vector store")
async def get_store(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).get(store_id, owner))


@router.post(
    "/v1/vector_stores/{store_id}",
    summary="Modify a vector store",
    openapi_extra=body_schema(UpdateVectorStoreRequest),
)
async def update_store(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, UpdateVectorStoreRequest)
    return json_response(await _service(request).update(store_id, body, owner))


@router.delete("/v1/vector_stores/{store_id}", summary="Delete a vector store")
async def delete_store(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete(store_id, owner))


@router.post(
    "/v1/vector_stores/{store_id}/search",
    summary="Search a vector store",
    openapi_extra=body_schema(SearchRequest),
)
async def search_store(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, SearchRequest)
    return json_response(await _service(request).search(store_id, body, owner))


# ----- files in a store --------------------------------------------------------------


@router.post(
    "/v1/vector_stores/{store_id}/files",
    summary="Add a file to a vector store",
    openapi_extra=body_schema(CreateStoreFileRequest),
)
async def add_file(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CreateStoreFileRequest)
    return json_response(await _service(request).add_file(store_id, body, owner))


@router.get("/v1/vector_stores/{store_id}/files", summary="List a vector store's files")
async def list_files(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    page = await _service(request).list_files(
        store_id,
        owner,
        status=_status_filter(request),
        **page_query(request),
    )
    return page_response(page)


@router.get("/v1/vector_stores/{store_id}/files/{file_id}", summary="Retrieve a store's file")
async def get_file(request: Request, store_id: str, file_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).get_file(store_id, file_id, owner))


@router.post(
    "/v1/vector_stores/{store_id}/files/{file_id}",
    summary="Update a store file's attributes",
    openapi_extra=body_schema(UpdateStoreFileRequest),
)
async def update_file(request: Request, store_id: str, file_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, UpdateStoreFileRequest)
    return json_response(await _service(request).update_file(store_id, file_id, body, owner))


@router.delete(
    "/v1/vector_stores/{store_id}/files/{file_id}", summary="Remove a file from a vector store"
)
async def delete_file(request: Request, store_id: str, file_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete_file(store_id, file_id, owner))


@router.get("/v1/vector_stores/{store_id}/files/{file_id}/content", summary="A store file's chunks")
async def file_content(request: Request, store_id: str, file_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).file_content(store_id, file_id, owner))


# ----- file batches ------------------------------------------------------------------


@router.post(
    "/v1/vector_stores/{store_id}/file_batches",
    summary="Create a file batch",
    openapi_extra=body_schema(CreateBatchRequest),
)
async def create_batch(request: Request, store_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CreateBatchRequest)
    return json_response(await _service(request).create_batch(store_id, body, owner))


@router.get("/v1/vector_stores/{store_id}/file_batches/{batch_id}", summary="Retrieve a batch")
async def get_batch(request: Request, store_id: str, batch_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).get_batch(store_id, batch_id, owner))


@router.post(
    "/v1/vector_stores/{store_id}/file_batches/{batch_id}/cancel", summary="Cancel a batch"
)
async def cancel_batch(request: Request, store_id: str, batch_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).cancel_batch(store_id, batch_id, owner))


@router.get(
    "/v1/vector_stores/{store_id}/file_batches/{batch_id}/files", summary="List a batch's files"
)
async def list_batch_files(request: Request, store_id: str, batch_id: str) -> Response:
    owner = owner_of(request)
    service = _service(request)
    await service.get_batch(store_id, batch_id, owner)
    page = await service.list_files(
        store_id,
        owner,
        status=_status_filter(request),
        batch_id=batch_id,
        **page_query(request),
    )
    return page_response(page)

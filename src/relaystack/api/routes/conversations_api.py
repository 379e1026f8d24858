"""``/v1/conversations``: HTTP in and out; ``ConversationsService`` does the rest."""

from __future__ import annotations

from typing import get_args

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.body import body_schema, typed_body
from relaystack.api.context import owner_of
from relaystack.api.id_checks import path_id_shapes
from relaystack.api.json import json_response
from relaystack.api.limits import conversation_body
from relaystack.api.query import list_page, page_query, page_response
from relaystack.conversations.service import ConversationsService
from relaystack.conversations.types import (
    AddItemsRequest,
    CreateConversationRequest,
    UpdateConversationRequest,
)
from relaystack.errors import InvalidRequest
from relaystack.responses.request import IncludeValue

# Ids of the wrong kind in the path are a 400 naming the parameter.
router = APIRouter(dependencies=[Depends(path_id_shapes)])

_INCLUDABLE = get_args(IncludeValue)


def _service(request: Request) -> ConversationsService:
    return request.app.state.conversations


def _check_include(request: Request) -> None:
    """``include`` is accepted and checked; stored items already carry every field."""
    # The openai SDK sends lists as ``include[]=``; curl users write ``include=``.
    values = request.query_params.getlist("include") + request.query_params.getlist("include[]")
    for value in values:
        if value not in _INCLUDABLE:
            raise InvalidRequest(
                f"Invalid value: '{value}'. Supported values are: "
                + ", ".join(f"'{name}'" for name in _INCLUDABLE)
                + ".",
                param="include",
                code="invalid_value",
            )


@router.post(
    "/v1/conversations",
    summary="Create a conversation",
    openapi_extra=body_schema(CreateConversationRequest),
)
async def create_conversation(request: Request) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CreateConversationRequest, conversation_body)
    return json_response(await _service(request).create(body, owner))


@router.get("/v1/conversations/{conversation_id}", summary="Retrieve a conversation")
async def get_conversation(request: Request, conversation_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).get(conversation_id, owner))


@router.post(
    "/v1/conversations/{conversation_id}",
    summary="Update a conversation",
    openapi_extra=body_schema(UpdateConversationRequest),
)
async def update_conversation(request: Request, conversation_id: str) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, UpdateConversationRequest)
    return json_response(await _service(request).update(conversation_id, body, owner))


@router.delete("/v1/conversations/{conversation_id}", summary="Delete a conversation")
async def delete_conversation(request: Request, conversation_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete(conversation_id, owner))


@router.post(
    "/v1/conversations/{conversation_id}/items",
    summary="Create items",
    openapi_extra=body_schema(AddItemsRequest),
)
async def add_items(request: Request, conversation_id: str) -> Response:
    owner = owner_of(request)
    _check_include(request)
    body = await typed_body(request, AddItemsRequest, conversation_body)
    items = await _service(request).add_items(conversation_id, body, owner)
    return json_response(list_page(items, has_more=False))


@router.get("/v1/conversations/{conversation_id}/items", summary="List items")
async def list_items(request: Request, conversation_id: str) -> Response:
    owner = owner_of(request)
    _check_include(request)
    page = await _service(request).list_items(
        conversation_id,
        owner,
        **page_query(request),
    )
    return page_response(page)


@router.get("/v1/conversations/{conversation_id}/items/{item_id}", summary="Retrieve an item")
async def get_item(request: Request, conversation_id: str, item_id: str) -> Response:
    owner = owner_of(request)
    _check_include(request)
    return json_response(await _service(request).get_item(conversation_id, item_id, owner))


@router.delete("/v1/conversations/{conversation_id}/items/{item_id}", summary="Delete an item")
async def delete_item(request: Request, conversation_id: str, item_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete_item(conversation_id, item_id, owner))

"""``/v1/responses``: HTTP in and out; the engine does the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.admission import admit
from relaystack.api.body import body_schema, typed_body
from relaystack.api.context import owner_of
from relaystack.api.disconnect import json_unless_disconnected
from relaystack.api.id_checks import path_id_shapes
from relaystack.api.json import json_response
from relaystack.api.limits import response_body
from relaystack.api.query import limit_param, list_page, order_param, page_query, page_response
from relaystack.api.routes import background_api
from relaystack.api.sse import sse_response
from relaystack.responses.compact_request import CompactRequest
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.service import ResponsesService, Turn
from relaystack.wire.sse import DONE_FRAME, event_frame

router = APIRouter()
# Ids of the wrong kind in the path are a 400 naming the parameter. On the routes with
# an id only: a dependency costs every request of its route FastAPI's solving of it.
ID_CHECKED = [Depends(path_id_shapes)]


def _service(request: Request) -> ResponsesService:
    return request.app.state.responses


@router.post(
    "/v1/responses",
    openapi_extra=body_schema(CreateResponseRequest),
    summary="Create a model response",
)
async def create_response(request: Request) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CreateResponseRequest, response_body)
    await admit(request, owner)
    if body.background:
        return await background_api.submit(request, body, owner)
    service = _service(request)
    turn = await service.prepare(body, owner)
    if body.stream:
        return sse_response(_frames(service, turn), on_close=turn.close)
    try:
        return await json_unless_disconnected(request, service.create(turn))
    finally:
        await turn.close()


async def _frames(service: ResponsesService, turn: Turn) -> AsyncIterator[bytes]:
    async for event in service.events(turn):
        yield event_frame(event)
    # The spec ends a stream with the literal [DONE]; the SDKs stop reading there.
    yield DONE_FRAME


@router.post(
    "/v1/responses/input_tokens",
    openapi_extra=body_schema(CreateResponseRequest),
    summary="Count a response's input tokens",
)
async def count_input_tokens(request: Request) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CreateResponseRequest, response_body)
    tokens = await _service(request).count_input_tokens(body, owner)
    return json_response({"object": "response.input_tokens", "input_tokens": tokens})


@router.post(
    "/v1/responses/compact",
    openapi_extra=body_schema(CompactRequest),
    summary="Compact a conversation",
)
async def compact_response(request: Request) -> Response:
    owner = owner_of(request)
    body = await typed_body(request, CompactRequest, response_body)
    await admit(request, owner)
    return json_response(await _service(request).compact(body, owner))


@router.get("/v1/responses", summary="List stored responses")
async def list_responses(request: Request) -> Response:
    owner = owner_of(request)
    page = await _service(request).list(
        owner, **page_query(request), model=request.query_params.get("model")
    )
    return page_response(page)


@router.get("/v1/responses/{response_id}", summary="Retrieve a response", dependencies=ID_CHECKED)
async def get_response(request: Request, response_id: str) -> Response:
    owner = owner_of(request)
    if request.query_params.get("stream") == "true":
        return await background_api.stream_again(request, response_id, owner)
    return json_response(await _service(request).get(response_id, owner))


@router.delete("/v1/responses/{response_id}", summary="Delete a response", dependencies=ID_CHECKED)
async def delete_response(request: Request, response_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _service(request).delete(response_id, owner))


@router.get(
    "/v1/responses/{response_id}/input_items",
    summary="List a response's input items",
    dependencies=ID_CHECKED,
)
async def list_input_items(request: Request, response_id: str) -> Response:
    owner = owner_of(request)
    page = await _service(request).input_items(
        response_id,
        owner,
        after=request.query_params.get("after"),
        before=request.query_params.get("before"),
        limit=limit_param(request),
        order=order_param(request),
    )
    return json_response(list_page(page.data, page.has_more))

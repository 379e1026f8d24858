"""Background responses over HTTP: submission (from ``POST /v1/responses``), streams
read again with ``starting_after``, and ``POST /v1/responses/{id}/cancel``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.context import owner_of
from relaystack.api.json import json_response
from relaystack.api.sse import sse_response
from relaystack.errors import InvalidRequest
from relaystack.responses.background import BackgroundWorkers
from relaystack.responses.request import CreateResponseRequest
from relaystack.wire.sse import event_frame

router = APIRouter()


def _workers(request: Request) -> BackgroundWorkers:
    return request.app.state.background


async def submit(request: Request, body: CreateResponseRequest, owner: str) -> Response:
    """``background: true``: answered once the job is stored (``queued``); with
    ``stream: true`` the stream follows the job's event log from its first event."""
    workers = _workers(request)
    response = await workers.submit(body, owner)
    if body.stream:
        return sse_response(_frames(await workers.follow(response["id"], owner, None)))
    return json_response(response)


async def stream_again(request: Request, response_id: str, owner: str) -> Response:
    """``GET /v1/responses/{id}?stream=true[&starting_after=N]``."""
    after = _starting_after(request.query_params.get("starting_after"))
    events = await _workers(request).follow(response_id, owner, after)
    return sse_response(_frames(events))


@router.post("/v1/responses/{response_id}/cancel", summary="Cancel a background response")
async def cancel_response(request: Request, response_id: str) -> Response:
    owner = owner_of(request)
    return json_response(await _workers(request).cancel(response_id, owner))


async def _frames(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for event in events:
        yield event_frame(event)


def _starting_after(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -2
    if number < -1:
        raise InvalidRequest(
            f"Invalid 'starting_after': expected a sequence number, got {value!r}.",
            param="starting_after",
            code="invalid_value",
        )
    return number

"""``/v1/chat/completions`` and ``/v1/embeddings``: pass-through to the model's provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.admission import admit
from relaystack.api.body import json_object
from relaystack.api.context import owner_of
from relaystack.api.disconnect import json_unless_disconnected
from relaystack.api.limits import chat_body
from relaystack.api.reporting import ChunkWatch, reported
from relaystack.api.sse import sse_response
from relaystack.errors import ApiError, InvalidRequest
from relaystack.inference.base import ChunkStream
from relaystack.inference.registry import ModelRegistry, ResolvedModel
from relaystack.telemetry import telemetry
from relaystack.wire.sse import DONE_FRAME, data_frame

router = APIRouter()


def _resolve(request: Request, body: dict[str, Any]) -> ResolvedModel:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest(
            "Missing required parameter: 'model'.",
            param="model",
            code="missing_required_parameter",
        )
    registry: ModelRegistry = request.app.state.models
    resolved = registry.resolve(model)
    body["model"] = resolved.upstream_id
    return resolved


@router.post("/v1/chat/completions", summary="Create a chat completion (pass-through)")
async def chat_completions(request: Request) -> Response:
    owner = owner_of(request)
    body = await json_object(request, chat_body)
    model = _resolve(request, body)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise InvalidRequest(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    await admit(request, owner)
    call = telemetry().upstream_call(model.public_id)
    if not body.get("stream"):
        work = reported(call, model.provider.chat_completion(body))
        return await json_unless_disconnected(request, work)
    watch = ChunkWatch(call)
    chunks = model.provider.stream_chat_completion(body)
    # Wait for the first chunk so that an upstream refusal is an HTTP error, not a
    # stream that ends early.
    try:
        first = await anext(chunks, None)
    except ApiError as error:
        watch.finished(error.code or "error")
        raise
    return sse_response(_frames(first, chunks, watch), on_close=chunks.aclose)


async def _frames(
    first: dict[str, Any] | None, chunks: ChunkStream, watch: ChunkWatch
) -> AsyncIterator[bytes]:
    outcome: str | None = "cancelled"  # unless the stream gets to its end
    try:
        if first is None:
            outcome = None
            yield DONE_FRAME
            return
        watch.see(first)
        yield data_frame(first)
        try:
            async for chunk in chunks:
                watch.see(chunk)
                yield data_frame(chunk)
        except ApiError as error:
            outcome = error.code or "error"
            yield data_frame(error.envelope())
            return
        finally:
            await chunks.aclose()
        outcome = None
        yield DONE_FRAME
    finally:
        watch.finished(outcome)


@router.post("/v1/embeddings", summary="Create embeddings (pass-through)")
async def embeddings(request: Request) -> Response:
    owner = owner_of(request)
    body = await json_object(request)
    model = _resolve(request, body)
    if "input" not in body:
        raise InvalidRequest(
            "Missing required parameter: 'input'.",
            param="input",
            code="missing_required_parameter",
        )
    await admit(request, owner)
    call = telemetry().upstream_call(model.public_id, operation="embeddings")
    return await json_unless_disconnected(request, reported(call, model.provider.embeddings(body)))

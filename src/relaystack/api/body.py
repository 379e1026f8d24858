"""Reading and validating request bodies: size and time limits, JSON, the shape limits
(``limits.py``), then the typed model. Large bodies are parsed and validated in a
worker thread: validating megabytes takes seconds the event loop owes everyone else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from relaystack.api.limits import BodyCheck, BodyLimits, any_body
from relaystack.api.validation import to_invalid_request
from relaystack.errors import ApiError, InvalidRequest
from relaystack.wire.json import loads

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")

# Bodies are read and validated by hand (for the size limit and OpenAI's error
# messages), so FastAPI cannot see them; routes name their model here instead and
# the OpenAPI document is completed from this registry.
_DOCUMENTED: dict[str, type[BaseModel]] = {}


def body_schema(model: type[BaseModel]) -> dict[str, str]:
    """``openapi_extra`` for a route whose JSON body is ``model``."""
    _DOCUMENTED[model.__name__] = model
    return {"x-request-model": model.__name__}


def documented_models() -> dict[str, type[BaseModel]]:
    return dict(_DOCUMENTED)


class PayloadTooLarge(ApiError):
    status_code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Request body is larger than the limit of {limit} bytes.",
            code="request_too_large",
        )


class BodyTimeout(ApiError):
    status_code = 408

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The request body did not arrive within {seconds:g} seconds.",
            code="request_timeout",
        )


def _limits(request: Request) -> BodyLimits:
    return request.app.state.limits


async def read_body(request: Request) -> bytes:
    limit: int = request.app.state.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    seconds = _limits(request).body_timeout
    try:
        # A client that trickles its body (or stops sending it) holds a connection.
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout(seconds) from None
    return b"".join(chunks)


async def json_object(request: Request, check: BodyCheck = any_body) -> dict[str, Any]:
    raw = await read_body(request)
    limits = _limits(request)
    return await _off_the_loop_if_large(len(raw), limits, _checked_object, raw, check, limits)


async def typed_body(request: Request, model: type[Model], check: BodyCheck = any_body) -> Model:
    raw = await read_body(request)
    limits = _limits(request)
    return await _off_the_loop_if_large(len(raw), limits, _typed, raw, model, check, limits)


async def _off_the_loop_if_large(
    size: int, limits: BodyLimits, work: Callable[..., Result], *args: Any
) -> Result:
    # A thread hop costs more than checking a small body; a large one would freeze
    # every other request while it is checked.
    if size >= limits.offload_bytes:
        return await asyncio.to_thread(work, *args)
    return work(*args)


def _typed(raw: bytes, model: type[Model], check: BodyCheck, limits: BodyLimits) -> Model:
    return typed_object(_checked_object(raw, check, limits), model)


def typed_object(data: dict[str, Any], model: type[Model]) -> Model:
    """A parsed, shape-checked JSON object as ``model``, or OpenAI's 400 naming the parameter."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_invalid_request(exc) from None


async def typed_message(
    raw: bytes, limits: BodyLimits, parse: Callable[[bytes, BodyLimits], Result]
) -> Result:
    """A body that came another way than an HTTP request (a WebSocket message), parsed
    by ``parse`` off the event loop when it is large, like an HTTP body."""
    return await _off_the_loop_if_large(len(raw), limits, parse, raw, limits)


def _checked_object(raw: bytes, check: BodyCheck, limits: BodyLimits) -> dict[str, Any]:
    if not raw.strip():
        # No body at all reads as {}: then the missing parameter gets named, and a
        # create that needs none (an empty conversation) just works.
        return {}
    try:
        data = loads(raw)
    except ValueError:
        raise InvalidRequest(
            "We could not parse the JSON body of your request.", code="invalid_json"
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    check(data, limits)
    return data

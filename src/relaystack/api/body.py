"""Reading and validating request bodies: size limit, JSON, then the typed model."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from relaystack.api.validation import to_invalid_request
from relaystack.errors import ApiError, InvalidRequest
from relaystack.wire.json import loads

Model = TypeVar("Model", bound=BaseModel)

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


async def read_body(request: Request) -> bytes:
    limit: int = request.app.state.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_object(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
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
    return data


async def typed_body(request: Request, model: type[Model]) -> Model:
    data = await json_object(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_invalid_request(exc) from None

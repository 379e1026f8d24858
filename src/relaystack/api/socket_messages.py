"""What a client sends on the Responses WebSocket, and the ``error`` event it hears back.

A message is a ``response.create`` event: the body of ``POST /v1/responses`` plus
``"type": "response.create"``. It is checked exactly as an HTTP body is (the shape
limits, ids, the typed model), so the same request gets the same 400 either way.
``stream`` and ``stream_options`` say nothing on a socket (every turn streams); they are
dropped. ``background`` cannot run on a socket and is refused.
"""

from __future__ import annotations

from typing import Any

from relaystack.api.body import PayloadTooLarge, typed_object
from relaystack.api.limits import BodyLimits, response_body
from relaystack.errors import ApiError, InvalidRequest
from relaystack.responses.request import CreateResponseRequest
from relaystack.wire.json import loads

CREATE = "response.create"
_IMPLIED = ("stream", "stream_options")  # every turn on a socket streams

# The code an error event carries when the error itself names none (the spec requires
# one), by its HTTP-style status.
_FALLBACK_CODES = {400: "invalid_request", 401: "invalid_api_key", 404: "not_found"}


class NotATurn(InvalidRequest):
    """A message that is no ``response.create`` event at all (not JSON, another type)."""


def parse_create(raw: bytes, limits: BodyLimits) -> CreateResponseRequest:
    """One message as a create request, or the 400 that says what is wrong with it."""
    try:
        data = loads(raw)
    except ValueError:
        raise NotATurn(
            "We could not parse the JSON of your WebSocket message.", code="invalid_json"
        ) from None
    if not isinstance(data, dict):
        raise NotATurn("A WebSocket message must be a JSON object.", code="invalid_json")
    kind = data.pop("type", None)
    if kind != CREATE:
        raise NotATurn(
            f"Unsupported event type {kind!r}: a client sends only '{CREATE}' events on "
            "this socket."
            if kind is not None
            else f"Missing required parameter: 'type' (always '{CREATE}').",
            param="type",
            code="invalid_value" if kind is not None else "missing_required_parameter",
        )
    for name in _IMPLIED:
        data.pop(name, None)
    if data.get("background"):
        raise InvalidRequest(
            "Background mode is not available over WebSocket; send the turn without 'background'.",
            param="background",
            code="unsupported_parameter",
        )
    response_body(data, limits)
    return typed_object(data, CreateResponseRequest)


def check_size(raw: bytes, max_bytes: int) -> None:
    if len(raw) > max_bytes:
        raise PayloadTooLarge(max_bytes)


def error_event(error: ApiError) -> dict[str, Any]:
    """The spec's ``WebSocketErrorEvent`` (the HTTP envelope's fields and the status),
    with ``code``, ``message`` and ``param`` also at the top, where the openai SDK's
    event type (``ResponseErrorEvent``, the SSE ``error`` event) reads them."""
    code = error.code or _FALLBACK_CODES.get(error.status_code, "server_error")
    return {
        "type": "error",
        "status": error.status_code,
        "error": {
            "type": error.error_type,
            "code": code,
            "message": error.message,
            "param": error.param,
        },
        "code": code,
        "message": error.message,
        "param": error.param,
    }

"""The ASGI middleware around every HTTP request: its id, its record, its ending.

Pure ASGI (no ``BaseHTTPMiddleware``): one wrapped ``send`` that adds the
``x-request-id`` header and notes the status. A failure no handler answered still
leaves as OpenAI's envelope, with the request id, so the id is on every response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from relaystack.errors import ApiError
from relaystack.observability.record import RequestRecord
from relaystack.observability.recorder import Recorder, RequestTelemetry
from relaystack.observability.request_ids import HEADER, request_id_of
from relaystack.telemetry import bind_telemetry
from relaystack.wire import json as wire_json

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]


class RequestMiddleware:
    def __init__(self, app: Any, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(
            request_id=request_id_of(scope["headers"]),
            method=scope["method"],
            path=scope["path"],
            started=time.perf_counter(),
        )
        bind_telemetry(RequestTelemetry(self.recorder, record))
        tracing = self.recorder.tracing
        request_span = tracing.start_request(scope) if tracing is not None else None
        id_header = (HEADER, record.request_id.encode("ascii"))
        started = False

        # A plain function that hands back ``send``'s own awaitable: a coroutine of its
        # own would cost every body chunk of every stream one more frame.
        def send_with_id(message: Message) -> Awaitable[None]:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                record.status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            elif record.before_last_byte and not message.get("more_body", False):
                return _run_then_send(record.before_last_byte, send, message)
            return send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s %s", record.method, record.path)
            record.status = 500
            if not started:
                await _server_error(send_with_id)
        finally:
            route = scope.get("route")
            record.route = getattr(route, "path", "")
            # Guarded here, not in _run: a coroutine made per request to find an empty
            # list is not free.
            if record.before_last_byte:
                await _run(record.before_last_byte)  # when the last byte was never sent
            if record.cleanups:
                await _run(record.cleanups)
            self.recorder.finish(record, time.perf_counter() - record.started)
            if request_span is not None:
                assert tracing is not None
                tracing.end_request(request_span, record)


async def _run_then_send(
    callbacks: list[Callable[[], Awaitable[None]]], send: Any, message: Message
) -> None:
    await _run(callbacks)
    await send(message)


async def _run(callbacks: list[Callable[[], Awaitable[None]]]) -> None:
    """Each once, even when a callback adds another meanwhile."""
    while callbacks:
        await callbacks.pop(0)()


async def _server_error(send: Any) -> None:
    error = ApiError(
        "The server had an error while processing your request.",
        status_code=500,
        error_type="server_error",
        code="server_error",
    )
    body = wire_json.dumps(error.envelope())
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

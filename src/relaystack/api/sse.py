"""Server-sent events framing. Events arrive built and numbered; this only frames them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from relaystack.api.coalesce import coalesced
from relaystack.wire.json import dumps

_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event_frame(event: dict[str, Any]) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + dumps(event) + b"\n\n"


def data_frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"


DONE_FRAME = b"data: [DONE]\n\n"


def sse_response(
    frames: AsyncIterator[bytes], on_close: Callable[[], Awaitable[None]] | None = None
) -> StreamingResponse:
    """``on_close`` runs once the response has ended, also when the client left before
    the first frame (when ``frames`` never started and so cleaned up nothing)."""
    return StreamingResponse(
        coalesced(frames),
        media_type="text/event-stream",
        headers=_HEADERS,
        background=BackgroundTask(on_close) if on_close is not None else None,
    )

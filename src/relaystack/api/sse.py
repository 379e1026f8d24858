"""Server-sent events as an HTTP response: framing is ``relaystack.wire.sse``'s, this
only streams the frames (coalesced) with the headers a stream needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from relaystack.api.coalesce import coalesced

_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


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

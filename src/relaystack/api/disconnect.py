"""Stop work whose client has gone away.

A streaming response learns of a disconnect when its next write fails; a JSON one
would otherwise run to the end: generating tokens nobody reads, and holding the local
model's single worker the while. Here the work runs beside a watcher of the
connection, and is cancelled (the engine then stores it as ``cancelled``) if the
client leaves first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.json import json_response


async def json_unless_disconnected(request: Request, work: Awaitable[Any]) -> Response:
    """``work``'s result as JSON or, if the client disconnects first, ``work`` cancelled
    and a 499 (nginx's "client closed request", for access logs: nobody reads it)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return Response(status_code=499)
    return json_response(task.result())


async def _disconnected(request: Request) -> None:
    # The body has been read, so the next message is the disconnect, whenever it comes.
    while (await request.receive())["type"] != "http.disconnect":
        pass

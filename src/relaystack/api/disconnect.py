"""Stop work whose client has gone away.

A streaming response learns of a disconnect when its next write fails; a JSON one
would otherwise run to the end: generating tokens nobody reads, and holding the local
model's single worker the while. Here the work runs in the request's own task beside a
watcher of the connection, which cancels it (the engine then stores it as
``cancelled``) if the client leaves first.

The work runs in the request's task rather than a task of its own: a second task and
``asyncio.wait`` over both cost each JSON request more than everything else this
module does (callgrind, chat completions on the bench's mock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from relaystack.api.json import json_response


async def json_unless_disconnected(request: Request, work: Awaitable[Any]) -> Response:
    """``work``'s result as JSON or, if the client disconnects first, ``work`` cancelled
    and a 499 (nginx's "client closed request", for access logs: nobody reads it)."""
    handler = asyncio.current_task()
    assert handler is not None
    watching = True
    client_left = False

    def on_disconnect(watcher: asyncio.Future[None]) -> None:
        nonlocal client_left
        # Also scheduled when the work ended in the same loop turn: then it is too late.
        if watching and not watcher.cancelled():
            client_left = True
            handler.cancel()

    watcher = asyncio.ensure_future(_disconnected(request))
    watcher.add_done_callback(on_disconnect)
    try:
        result = await work
    except asyncio.CancelledError:
        if not client_left:
            raise  # cancelled from elsewhere (shutdown): not ours to swallow
        handler.uncancel()
        return Response(status_code=499)
    finally:
        watching = False
        watcher.cancel()
    return json_response(result)


async def _disconnected(request: Request) -> None:
    # The body has been read, so the next message is the disconnect, whenever it comes.
    while (await request.receive())["type"] != "http.disconnect":
        pass

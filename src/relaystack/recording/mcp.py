"""MCP traffic through the recorder: what is recorded, and what only passes by.

A Streamable HTTP session is POSTs of JSON-RPC messages, recorded like any call: the
answer to a request (JSON, or an SSE stream of messages) and the empty 202 that answers
a notification. Two requests of the session are not calls: the long-lived GET listening
stream and the DELETE that ends the session. They pass through unrecorded when
recording, and are answered here in replay. The ``mcp-session-id`` header reaches the
client when recording; a replayed ``initialize`` has none, so a replayed client opens
no listening stream and sends no DELETE (nothing on the replayed server needs a
session). JSON-RPC ids tie answers to requests, so they are kept as recorded.

The SSE transport carries every answer on its GET stream, apart from the POST that
asked: a request/response recorder cannot replay it (replay answers the stream 405).
"""

from __future__ import annotations

from typing import Any

import httpx

SESSION_HEADER = "mcp-session-id"


def is_session_side_request(request: httpx.Request) -> bool:
    """A listening stream (GET asking for SSE) or an MCP session's DELETE: not a call."""
    if request.method == "GET":
        return "text/event-stream" in request.headers.get("accept", "")
    return request.method == "DELETE" and SESSION_HEADER in request.headers


def replayed_side_answer(request: httpx.Request) -> httpx.Response:
    """In replay: no listening stream (405, as a server without one says); DELETE done."""
    return httpx.Response(405 if request.method == "GET" else 200, request=request)


def is_jsonrpc(message: Any) -> bool:
    return isinstance(message, dict) and message.get("jsonrpc") == "2.0"


def session_headers(upstream: httpx.Response) -> dict[str, str]:
    """What the client needs from the live answer besides the body: the session id."""
    session = upstream.headers.get(SESSION_HEADER)
    return {SESSION_HEADER: session} if session is not None else {}

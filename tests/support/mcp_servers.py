"""Real MCP servers for the tests: the official SDK's FastMCP on loopback sockets.

One set of tools (``add``, ``echo``, ``fail``) served over Streamable HTTP, over SSE,
and over Streamable HTTP behind a bearer token. Each server counts the tool calls it ran;
``RequestLog`` keeps what a server was asked (and on which connection), to see how sessions
are opened and closed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from mcp.server.fastmcp import FastMCP
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN = "secret-token-123"


def tool_server(name: str, calls: Counter[str]) -> FastMCP:
    server = FastMCP(name, log_level="WARNING")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        calls["add"] += 1
        return a + b

    @server.tool(description="Repeat the text.")
    def echo(text: str) -> str:
        calls["echo"] += 1
        return text

    @server.tool(description="Always fails with the reason given.")
    def fail(reason: str) -> str:
        calls["fail"] += 1
        raise ValueError(reason)

    return server


class BearerOnly:
    """Answers 401 unless the request carries ``Authorization: Bearer TOKEN``; keeps
    every header it saw."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.seen.append(headers)
            if headers.get("authorization") != f"Bearer {TOKEN}":
                await _unauthorized(send)
                return
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Seen:
    http_method: str
    rpc_method: str | None  # the JSON-RPC method of a POST (None: a response, or no body)
    session: str | None  # the mcp-session-id header
    port: int | None  # the client's port: requests with one port came on one connection


class RequestLog:
    """Keeps every HTTP request's method, JSON-RPC method and session id, then serves it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        messages = []
        body = b""
        if scope["method"] == "POST":
            while True:
                message = await receive()
                messages.append(message)
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
        rpc = json.loads(body) if body else None
        method = rpc.get("method") if isinstance(rpc, dict) else None
        client = scope.get("client")
        port = client[1] if client else None
        self.seen.append(Seen(scope["method"], method, headers.get("mcp-session-id"), port))

        async def replayed() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replayed, send)

    def rpc(self, method: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.rpc_method == method]

    def deleted(self) -> set[str | None]:
        return {seen.session for seen in self.seen if seen.http_method == "DELETE"}


async def _unauthorized(send: Send) -> None:
    body: Any = b'{"error": "unauthorized"}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})

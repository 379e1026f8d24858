"""One remote MCP server, through the official ``mcp`` SDK client: list its tools, call one.

A ``McpConnection`` is one server's SDK session for one response: the first operation
(the listing, or the first call of a turn whose history already lists the server) opens
it, the later ones reuse it, and ``close`` ends it when the response ends. Opening a
session costs round trips (initialize, the initialized notification, the listening
stream) that a call alone does not; one session per operation made an MCP turn pay them
twice.

The session lives in a task of its own, which opens it and closes it: the SDK's
transports are task groups, which must be left by the task that entered them, while the
operations run in whichever task the tool loop gives them (concurrent calls share the
session; JSON-RPC ids keep their answers apart). Every operation runs under the
server's deadline, its wait for the session included, so a server that stalls is an
error, never a hang; a session that broke (the server went away) is opened again by the
next operation. The transport follows the URL: a path ending in ``/sse`` is the SSE
transport, anything else Streamable HTTP. Every request goes through the
``HttpClientFactory`` the engine gives (the recording transport); the bearer token
travels only in the request headers, which recordings never keep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import (
    MCP_PROTOCOL_VERSION,
    MCP_SESSION_ID,
    streamable_http_client,
)
from mcp.types import CallToolResult, TextContent

from relaystack.tools.kind import HttpClientFactory
from relaystack.wire.json import dumps_stdlib

log = logging.getLogger(__name__)

# Sessions still closing after their response ended: kept so they are not collected.
_closing: set[asyncio.Task[None]] = set()


class McpUnavailable(Exception):
    """The server could not be reached or did not answer as an MCP server should."""


@dataclass(frozen=True)
class McpServer:
    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    authorization: str | None = field(default=None, repr=False)  # never printed or logged


class McpConnection:
    """One server's SDK session within one response (see the module's docstring)."""

    def __init__(self, server: McpServer, http: HttpClientFactory) -> None:
        self._server = server
        self._http = http
        self._owner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[ClientSession] | None = None
        self._closing: asyncio.Event | None = None

    async def list_tools(self) -> list[dict[str, Any]]:
        """The server's tools as ``mcp_list_tools`` lists them (every page)."""
        async with self._operation() as session:
            tools: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = await session.list_tools(cursor)
                tools += [_listed(tool.model_dump(exclude_none=True)) for tool in page.tools]
                cursor = page.nextCursor
                if not cursor:
                    return tools

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """The call's output as text, and whether the tool reported an error."""
        async with self._operation() as session:
            result = await session.call_tool(name, arguments)
        return _text(result), result.isError

    def close(self) -> None:
        """The response ended: the session's task closes it (the session's DELETE) in
        the background, so the response does not wait for that round trip."""
        owner = self._owner
        if owner is None or owner.done():
            return
        assert self._ready is not None and self._closing is not None
        if self._ready.done():
            self._closing.set()
        else:
            owner.cancel()  # still opening: nothing to end politely
        _closing.add(owner)
        owner.add_done_callback(_closing.discard)

    @contextlib.asynccontextmanager
    async def _operation(self) -> AsyncIterator[ClientSession]:
        timeout = self._server.timeout
        try:
            async with asyncio.timeout(timeout):
                yield await asyncio.shield(self._session())
        except McpUnavailable:
            raise
        except Exception as exc:  # the SDK raises groups of transport and protocol errors
            raise McpUnavailable(_reason(exc, timeout)) from None

    def _session(self) -> asyncio.Future[ClientSession]:
        """The open session, or the one being opened; a new one if the last one broke."""
        if self._owner is None or self._owner.done():
            self._ready = asyncio.get_running_loop().create_future()
            # Marked retrieved: an operation that timed out no longer awaits it.
            self._ready.add_done_callback(_retrieve)
            self._closing = asyncio.Event()
            self._owner = asyncio.create_task(self._own(self._ready, self._closing))
        assert self._ready is not None
        return self._ready

    async def _own(self, ready: asyncio.Future[ClientSession], closing: asyncio.Event) -> None:
        """Open the session, hand it over, hold it until ``close``, then close it."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout(self._server.timeout):
                    session = await _open(self._server, self._http, stack)
                ready.set_result(session)
                await closing.wait()
        except asyncio.CancelledError:
            if not ready.done():
                ready.set_exception(McpUnavailable("the session was closed while opening"))
        except Exception as exc:  # opening failed, or the open session broke
            reason = _reason(exc, self._server.timeout)
            if not ready.done():
                ready.set_exception(McpUnavailable(reason))
            else:
                log.debug("MCP session ended: %s", reason)


async def _open(
    server: McpServer, http: HttpClientFactory, stack: contextlib.AsyncExitStack
) -> ClientSession:
    headers = dict(server.headers)
    if server.authorization is not None:
        headers["Authorization"] = f"Bearer {server.authorization}"
    ending: _SessionEnd | None = None
    if urlsplit(server.url).path.rstrip("/").endswith("/sse"):
        # The answers come on the GET stream, which stays open between operations: its
        # idle limit is the SDK's (minutes); each operation has the server's deadline.
        read, write = await stack.enter_async_context(
            sse_client(
                server.url, headers=headers, timeout=server.timeout, httpx_client_factory=http
            )
        )
    else:
        client = await stack.enter_async_context(
            http(headers=headers, timeout=httpx.Timeout(server.timeout))
        )
        # Registered first, so it runs once the transport (its listening stream) is gone.
        ending = _SessionEnd(client, server.url)
        stack.push_async_callback(ending.send)
        read, write, ending.session_id = await stack.enter_async_context(
            streamable_http_client(server.url, http_client=client, terminate_on_close=False)
        )
    session = await stack.enter_async_context(ClientSession(read, write))
    initialized = await session.initialize()
    if ending is not None:
        ending.protocol_version = str(initialized.protocolVersion)
    return session


class _SessionEnd:
    """The DELETE that ends a Streamable HTTP session, sent after the listening stream
    closed. The SDK sends it while that stream is still open, and the SDK's own server
    then logs a traceback for every session it ends: over 100 ms of its time per
    session, measured with FastMCP's default logging (bench/mcp_server.py)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url
        self.session_id: Callable[[], str | None] = lambda: None
        self.protocol_version: str | None = None

    async def send(self) -> None:
        session_id = self.session_id()
        if session_id is None:  # none given (stateless, or a replayed session)
            return
        headers = {MCP_SESSION_ID: session_id}
        if self.protocol_version is not None:
            headers[MCP_PROTOCOL_VERSION] = self.protocol_version
        try:
            await self._client.delete(self._url, headers=headers)
        except httpx.HTTPError as exc:  # the server forgets the session on its own
            log.debug("MCP session not ended: %s", exc)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _listed(tool: dict[str, Any]) -> dict[str, Any]:
    listed: dict[str, Any] = {"name": tool["name"], "input_schema": tool["inputSchema"]}
    if "description" in tool:
        listed["description"] = tool["description"]
    listed["annotations"] = tool.get("annotations")
    return listed


def _text(result: CallToolResult) -> str:
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    if texts:
        return "\n".join(texts)
    if result.structuredContent is not None:
        return dumps_stdlib(result.structuredContent)
    return dumps_stdlib([block.model_dump(exclude_none=True) for block in result.content])


def _reason(exc: BaseException, timeout: float) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} seconds"
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        return f"Http status code: {response.status_code} ({response.reason_phrase})"
    if isinstance(exc, httpx.ConnectError):
        return "Could not connect to the server."
    return str(exc) or type(exc).__name__

"""One remote MCP server, through the official ``mcp`` SDK client: list its tools, call one.

A ``McpConnection`` is one server's SDK session for one response: the first operation
(the listing, or the first call of a turn whose history already lists the server) opens
it, the later ones reuse it, and ``close`` ends it when the response ends. Opening a
session costs round trips (initialize, the initialized notification) that a call alone
does not; one session per operation made an MCP turn pay them twice. A Streamable HTTP
session opens no listening stream (see ``_streamable_http``).

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

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import (
    MCP_PROTOCOL_VERSION,
    MCP_SESSION_ID,
    StreamableHTTPTransport,
)
from mcp.shared.message import SessionMessage
from mcp.types import (
    CallToolRequest,
    CallToolRequestParams,
    CallToolResult,
    ClientRequest,
    TextContent,
)

from relaystack.tools.kind import HttpClientFactory
from relaystack.wire.json import dumps_stdlib

log = logging.getLogger(__name__)

_Read = MemoryObjectReceiveStream[SessionMessage | Exception]
_Write = MemoryObjectSendStream[SessionMessage]

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
        # Each listed tool's output schema (None: it has none), to check results with.
        self._output_schemas: dict[str, dict[str, Any] | None] = {}

    async def list_tools(self) -> list[dict[str, Any]]:
        """The server's tools as ``mcp_list_tools`` lists them (every page)."""
        async with self._operation() as session:
            return await self._list(session)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """The call's output as text, and whether the tool reported an error.

        Sent as the SDK's ``call_tool`` sends it, without its check of the result's
        structured content, which checks the tool's output schema against the JSON
        Schema metaschema on every call (14% of the client's instructions per session
        left once the listening stream was gone: 25.1 M to 21.5 M, callgrind) and lists
        the server's tools again first when this session has not listed them (every
        turn whose history listed the server). That content is checked the same way
        here, only when it is the call's output: when the result has no text.
        """
        request = CallToolRequest(params=CallToolRequestParams(name=name, arguments=arguments))
        async with self._operation() as session:
            result = await session.send_request(ClientRequest(request), CallToolResult)
            texts = [block.text for block in result.content if isinstance(block, TextContent)]
            if texts:
                return "\n".join(texts), result.isError
            structured = result.structuredContent
            if structured is None:
                blocks = [block.model_dump(exclude_none=True) for block in result.content]
                return dumps_stdlib(blocks), result.isError
            if not result.isError:
                await self._check_structured(session, name, structured)
            return dumps_stdlib(structured), result.isError

    async def _list(self, session: ClientSession) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(cursor)
            for tool in page.tools:
                self._output_schemas[tool.name] = tool.outputSchema
                tools.append(_listed(tool.model_dump(exclude_none=True)))
            cursor = page.nextCursor
            if not cursor:
                return tools

    async def _check_structured(
        self, session: ClientSession, name: str, structured: dict[str, Any]
    ) -> None:
        """The SDK's check of structured content against the tool's output schema."""
        # Imported here, as the SDK does: jsonschema's import costs every process that
        # never checks a result (most tools answer with text).
        import jsonschema
        import referencing
        import referencing.exceptions

        if name not in self._output_schemas:
            await self._list(session)
        schema = self._output_schemas.get(name)
        if schema is None:
            return
        try:
            jsonschema.validate(structured, schema, registry=referencing.Registry())
        except jsonschema.ValidationError as exc:
            raise McpUnavailable(
                f"Invalid structured content returned by tool {name}: {exc}"
            ) from None
        except (jsonschema.SchemaError, referencing.exceptions.Unresolvable) as exc:
            raise McpUnavailable(f"Invalid schema for tool {name}: {exc}") from None

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
        # Registered first, so it runs once the transport (its requests' tasks) is gone.
        ending = _SessionEnd(client, server.url)
        stack.push_async_callback(ending.send)
        read, write, ending.session_id = await stack.enter_async_context(
            _streamable_http(server.url, client)
        )
    session = await stack.enter_async_context(ClientSession(read, write))
    initialized = await session.initialize()
    if ending is not None:
        ending.protocol_version = str(initialized.protocolVersion)
    return session


@contextlib.asynccontextmanager
async def _streamable_http(
    url: str, client: httpx.AsyncClient
) -> AsyncIterator[tuple[_Read, _Write, Callable[[], str | None]]]:
    """The SDK's Streamable HTTP transport (``streamable_http_client``'s own pieces)
    without its listening stream: the GET the SDK opens once initialized carries only
    what the server starts on its own (requests for sampling, elicitation or roots, which
    this client declines, and notifications it ignores); answers come on each POST. That
    GET was one more HTTP request, connection and server-side stream per session, and
    their teardown, for nothing: 15% of the client's instructions per session (29.4 M
    to 25.1 M under callgrind, a session listing, calling and ending on
    bench/mcp_server.py)."""
    to_session, read = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write, from_session = anyio.create_memory_object_stream[SessionMessage](0)
    transport = StreamableHTTPTransport(url)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(
                transport.post_writer, client, from_session, to_session, write, _no_stream, tasks
            )
            try:
                yield read, write, transport.get_session_id
            finally:
                tasks.cancel_scope.cancel()
    finally:
        await to_session.aclose()
        await write.aclose()


def _no_stream() -> None:
    """Called by the SDK's transport where it would open the listening stream."""


class _SessionEnd:
    """The DELETE that ends a Streamable HTTP session, sent once the transport is gone.
    (The SDK sends it while its listening stream is still open, and the SDK's own server
    then logs a traceback for every session it ends: over 100 ms of its time per
    session, measured with FastMCP's default logging (bench/mcp_server.py).)"""

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

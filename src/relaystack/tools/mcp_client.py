"""One remote MCP server, through the official ``mcp`` SDK client: list its tools, call one.

Each operation opens its own short session (initialize, then the request) inside one
task and one deadline: nothing outlives the operation, so a client that leaves or a
server that stalls never strands a session, and concurrent calls need no locking. The
transport follows the URL: a path ending in ``/sse`` is the SSE transport, anything
else Streamable HTTP. Every request goes through the ``HttpClientFactory`` the engine
gives (the recording transport); the bearer token travels only in the request headers,
which recordings never keep.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from relaystack.tools.kind import HttpClientFactory
from relaystack.wire.json import dumps_stdlib


class McpUnavailable(Exception):
    """The server could not be reached or did not answer as an MCP server should."""


@dataclass(frozen=True)
class McpServer:
    url: str
    timeout: float
    headers: dict[str, str] = field(default_factory=dict)
    authorization: str | None = field(default=None, repr=False)  # never printed or logged


async def list_tools(server: McpServer, http: HttpClientFactory) -> list[dict[str, Any]]:
    """The server's tools as ``mcp_list_tools`` lists them (every page)."""
    async with _session(server, http) as session:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await session.list_tools(cursor)
            tools += [_listed(tool.model_dump(exclude_none=True)) for tool in page.tools]
            cursor = page.nextCursor
            if not cursor:
                return tools


async def call_tool(
    server: McpServer, http: HttpClientFactory, name: str, arguments: dict[str, Any]
) -> tuple[str, bool]:
    """The call's output as text, and whether the tool reported an error."""
    async with _session(server, http) as session:
        result = await session.call_tool(name, arguments)
    return _text(result), result.isError


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


@contextlib.asynccontextmanager
async def _session(server: McpServer, http: HttpClientFactory) -> AsyncIterator[ClientSession]:
    headers = dict(server.headers)
    if server.authorization is not None:
        headers["Authorization"] = f"Bearer {server.authorization}"
    timeout = httpx.Timeout(server.timeout)
    try:
        async with asyncio.timeout(server.timeout), contextlib.AsyncExitStack() as stack:
            if urlsplit(server.url).path.rstrip("/").endswith("/sse"):
                read, write = await stack.enter_async_context(
                    sse_client(
                        server.url,
                        headers=headers,
                        timeout=server.timeout,
                        sse_read_timeout=server.timeout,
                        httpx_client_factory=http,
                    )
                )
            else:
                client = await stack.enter_async_context(http(headers=headers, timeout=timeout))
                read, write, _ = await stack.enter_async_context(
                    streamable_http_client(server.url, http_client=client)
                )
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            yield session
    except TimeoutError:
        raise McpUnavailable(f"no answer within {server.timeout:g} seconds") from None
    except McpUnavailable:
        raise
    except Exception as exc:  # the SDK raises groups of transport and protocol errors
        raise McpUnavailable(_reason(exc)) from None


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        return f"Http status code: {response.status_code} ({response.reason_phrase})"
    if isinstance(exc, httpx.ConnectError):
        return "Could not connect to the server."
    return str(exc) or type(exc).__name__

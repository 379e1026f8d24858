"""The MCP servers as pytest fixtures, shared by the tool tests and the storage tests
(which run them on both stores)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.search.conftest import _searxng_server, searxng  # noqa: F401 (web search tests)
from tests.storage.conftest import postgres_url  # noqa: F401 (web search on PostgreSQL)
from tests.support.mcp_servers import BearerOnly, RequestLog, tool_server
from tests.support.servers import ServerThread


@dataclass
class McpServers:
    http_url: str
    sse_url: str
    bearer_url: str
    calls: Counter[str]
    bearer: BearerOnly
    log: RequestLog  # what the Streamable HTTP server (http_url) was asked


@pytest.fixture(scope="session")
def mcp_servers() -> Iterator[McpServers]:
    calls: Counter[str] = Counter()
    bearer = BearerOnly(tool_server("bearer", calls).streamable_http_app())
    log = RequestLog(tool_server("calc", calls).streamable_http_app())
    with (
        ServerThread(log) as http,
        ServerThread(tool_server("calc-sse", calls).sse_app()) as sse,
        ServerThread(bearer) as protected,
    ):
        yield McpServers(
            f"{http.url}/mcp", f"{sse.url}/sse", f"{protected.url}/mcp", calls, bearer, log
        )


@pytest.fixture
def mcp(mcp_servers: McpServers) -> McpServers:
    mcp_servers.calls.clear()
    mcp_servers.bearer.seen.clear()
    mcp_servers.log.seen.clear()
    return mcp_servers

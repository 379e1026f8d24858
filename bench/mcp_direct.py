"""The direct baseline of the MCP cells: one MCP turn done without relaystack.

What relaystack does for a ``responses-mcp`` request, done by the load generator
itself: the mock's chat stream offered the ``add`` tool (it answers with a call), one
MCP session on the bench's MCP server through the official SDK client (initialize,
list the tools, call ``add``, end the session), then the mock's chat stream with the
tool result (the text). Its latency is the floor relaystack's MCP turn is compared with.
The MCP client shares one httpx client per connection: a client of its own per session
would build an SSL context each time, which relaystack does not pay either.
"""

from __future__ import annotations

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import (
    MCP_PROTOCOL_VERSION,
    MCP_SESSION_ID,
    streamable_http_client,
)

from bench.httpclient import Connection, Result, build_request
from bench.mock_payloads import TOOL_CALL
from bench.workloads import PROMPT, tool_chat

ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


class McpTurn:
    """One connection's MCP turns: two chat streams on ``conn`` and an MCP session."""

    def __init__(self, conn: Connection, host: str, port: int, path: str, model: str) -> None:
        self._conn = conn
        user = {"role": "user", "content": PROMPT}
        self._ask = build_request("POST", host, port, path, tool_chat(model, [user], ADD))
        called = {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]}
        result = {"role": "tool", "tool_call_id": TOOL_CALL["id"], "content": "3"}
        self._answer = build_request(
            "POST", host, port, path, tool_chat(model, [user, called, result], ADD)
        )
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(60.0))

    async def run(self, mcp_url: str, marker: bytes, timeout: float) -> Result:
        first = await self._conn.request(self._ask, b"", timeout)
        if b"tool_calls" not in first.body:
            raise RuntimeError(f"the mock did not call the tool: {first.body[:200]!r}")
        # Ended with the DELETE once the transport (and its listening stream) is closed:
        # the SDK's own order makes its server log a traceback per session. (The SDK's
        # stock client, unlike relaystack's, opens that stream, checks the result
        # against the output schema, and opens a connection per request.)
        async with (
            streamable_http_client(mcp_url, http_client=self._http, terminate_on_close=False) as (
                read,
                write,
                session_id,
            ),
            ClientSession(read, write) as session,
        ):
            version = (await session.initialize()).protocolVersion
            await session.list_tools()
            called = await session.call_tool("add", {"a": 1, "b": 2})
            ending = {MCP_SESSION_ID: session_id() or "", MCP_PROTOCOL_VERSION: str(version)}
        await self._http.delete(mcp_url, headers=ending)
        if called.isError:
            raise RuntimeError(f"the MCP call failed: {called.content}")
        last = await self._conn.request(self._answer, marker, timeout)
        last.t_start = first.t_start
        return last

    async def aclose(self) -> None:
        await self._http.aclose()

"""The ``tools.mcp`` config section at work: a ``connector_id`` resolved to a configured
server and its credentials, the default ``require_approval``, and the per-server timeout
that turns a stalled server into an error instead of a hang."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from mcp.server.fastmcp import FastMCP
from starlette.types import Receive, Scope, Send

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support import spec
from tests.support.mcp_fixtures import McpServers
from tests.support.mcp_servers import TOKEN
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread

MODEL = "openai/gpt-4o"
STALL = 3.0  # seconds the stalled servers take; the configured timeout is well below


def add_call(call_id: str = "c1") -> Reply:
    return Reply(tool_calls=[{"id": call_id, "name": "add", "arguments": '{"a":1,"b":2}'}])


@pytest.fixture
def configured(upstream: MockUpstream, mcp: McpServers, tmp_path: Path) -> Iterator[str]:
    mcp_section = {
        "timeout": 0.5,
        "require_approval": "never",
        "connectors": {
            "calc_conn": {"server_url": mcp.bearer_url, "authorization": TOKEN},
        },
    }
    config = server_config(upstream.base_url, tmp_path / "db", tools={"mcp": mcp_section})
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


def create(base_url: str, **body: Any) -> dict[str, Any]:
    client = openai.OpenAI(base_url=base_url, api_key="sk-unused", max_retries=0)
    response = client.responses.create(model=MODEL, input="1+2?", **body)
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return data


def test_a_connector_id_reaches_its_configured_server_with_its_token(
    configured: str, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(add_call(), Reply(content=["3"]))
    tool = {"type": "mcp", "server_label": "calc", "connector_id": "calc_conn"}
    response = create(configured, tools=[tool])
    # The configured default (never) applied: no approval was asked.
    assert [item["type"] for item in response["output"]] == [
        "mcp_list_tools",
        "mcp_call",
        "message",
    ]
    assert response["output"][1]["output"] == "3" and mcp.calls["add"] == 1
    assert {seen.get("authorization") for seen in mcp.bearer.seen} == {f"Bearer {TOKEN}"}
    assert TOKEN not in json.dumps(response)
    assert response["tools"][0]["connector_id"] == "calc_conn"


def test_a_request_that_asks_for_approval_overrides_the_configured_default(
    configured: str, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(add_call())
    tool = {
        "type": "mcp",
        "server_label": "calc",
        "server_url": mcp.http_url,
        "require_approval": "always",
    }
    response = create(configured, tools=[tool])
    assert response["output"][-1]["type"] == "mcp_approval_request"
    assert mcp.calls["add"] == 0


def stalled_listing() -> Any:
    """An HTTP server that takes STALL seconds to say anything at all."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(STALL)
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


def test_a_server_that_does_not_answer_is_a_424_after_the_configured_timeout(
    configured: str, upstream: MockUpstream
) -> None:
    with ServerThread(stalled_listing()) as stalled:
        tool = {
            "type": "mcp",
            "server_label": "slow",
            "server_url": f"{stalled.url}/mcp",
        }
        body = {"model": MODEL, "input": "hi", "tools": [tool]}
        response = httpx.post(f"{configured}/responses", json=body, timeout=STALL * 10)
        assert response.status_code == 424
        error = response.json()["error"]
        assert "no answer within 0.5 seconds" in error["message"]
        assert error["param"] == "tools[0].server_url"
        assert upstream.requests == []


def slow_tool_server(calls: Counter[str]) -> FastMCP:
    server = FastMCP("slow", log_level="WARNING")

    @server.tool(description="Answers after a long while.")
    async def add(a: int, b: int) -> int:
        calls["add"] += 1
        await asyncio.sleep(STALL)
        return a + b

    return server


def test_a_call_that_does_not_answer_in_time_is_a_failed_call_the_model_reads(
    configured: str, upstream: MockUpstream
) -> None:
    calls: Counter[str] = Counter()
    with ServerThread(slow_tool_server(calls).streamable_http_app()) as slow:
        upstream.queue(add_call(), Reply(content=["it timed out"]))
        tool = {"type": "mcp", "server_label": "slow", "server_url": f"{slow.url}/mcp"}
        response = create(configured, tools=[tool])
    assert calls["add"] == 1
    failed = response["output"][1]
    assert failed["type"] == "mcp_call" and failed["status"] == "failed"
    assert "no answer within 0.5 seconds" in failed["error"]
    assert response["status"] == "completed"
    assert "no answer within 0.5 seconds" in upstream.requests[1]["messages"][-1]["content"]

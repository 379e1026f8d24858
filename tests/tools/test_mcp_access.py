"""MCP approvals, credentials and unreachable servers, over HTTP with the openai SDK."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.support import spec
from tests.support.mcp_fixtures import McpServers
from tests.support.mcp_servers import TOKEN
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"


def server(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "calc", "server_url": url, **extra}


def add_call(call_id: str = "call_a") -> Reply:
    return Reply(tool_calls=[{"id": call_id, "name": "add", "arguments": '{"a":1,"b":2}'}])


def error_of(server_url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server_url}/responses", json={"model": MODEL, **body}, timeout=30)


def test_never_per_tool_skips_approval_for_that_tool_only(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(add_call(), Reply(content=["3"]))
    rule = {"never": {"tool_names": ["add"]}}
    response = client.responses.create(
        model=MODEL, input="1+2", tools=[server(mcp.http_url, require_approval=rule)]
    )
    assert [item.type for item in response.output] == ["mcp_list_tools", "mcp_call", "message"]


def test_authorization_reaches_the_server_and_is_never_echoed_or_stored(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    tool = server(mcp.bearer_url, authorization=TOKEN, require_approval="never")
    upstream.queue(add_call(), Reply(content=["3"]))
    response = client.responses.create(model=MODEL, input="1+2", tools=[tool])
    assert response.output[1].output == "3"  # type: ignore[union-attr]
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for h in mcp.bearer.seen)
    stored = client.responses.retrieve(response.id)
    for shown in (response, stored):
        assert TOKEN not in shown.model_dump_json()
        assert "authorization" not in shown.tools[0].model_dump(exclude_none=True)


def test_a_missing_token_fails_the_listing_with_424(server_url: str, mcp: McpServers) -> None:
    response = error_of(server_url, {"input": "hi", "tools": [server(mcp.bearer_url)]})
    assert response.status_code == 424
    error = response.json()["error"]
    assert error["message"].startswith("Error retrieving tool list from MCP server: 'calc'.")
    assert "401" in error["message"] and error["param"] == "tools[0].server_url"


def test_an_authorization_header_is_a_400_pointing_to_authorization(
    server_url: str, mcp: McpServers
) -> None:
    tool = server(mcp.bearer_url, headers={"Authorization": f"Bearer {TOKEN}"})
    response = error_of(server_url, {"input": "hi", "tools": [tool]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "'authorization' parameter" in error["message"]
    assert error["param"].startswith("tools[0]")


@pytest.mark.parametrize(
    ("tool", "param"),
    [
        ({"server_url": "ftp://example.com/mcp"}, "tools[0]"),
        ({"server_url": None}, "tools[0]"),
        ({"connector_id": "nope"}, "tools[0].connector_id"),
        ({"server_url": "http://127.0.0.1:9/mcp", "connector_id": "x"}, "tools[0]"),
        ({"server_label": "no spaces", "server_url": "http://h/mcp"}, "tools[0].server_label"),
        ({"server_label": None, "server_url": "http://h/mcp"}, "tools[0].server_label"),
        ({"server_url": "http://h/mcp", "require_approval": "often"}, "tools[0].require_approval"),
        ({"server_url": "http://h/mcp", "allowed_tools": 5}, "tools[0].allowed_tools"),
        ({"server_url": "http://h/mcp", "headers": {"X": 1}}, "tools[0].headers"),
    ],
)
def test_bad_definitions_are_400s_naming_the_field(
    server_url: str, tool: dict[str, Any], param: str
) -> None:
    definition = {"type": "mcp", "server_label": "calc", **tool}
    definition = {k: v for k, v in definition.items() if v is not None}
    response = error_of(server_url, {"input": "hi", "tools": [definition]})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"].startswith(param)


def test_an_unreachable_server_fails_fast_json_and_stream(
    server_url: str, upstream: MockUpstream
) -> None:
    tool = server("http://127.0.0.1:9/mcp")
    response = error_of(server_url, {"input": "hi", "tools": [tool]})
    assert response.status_code == 424
    events = stream_events(
        server_url, {"model": MODEL, "input": "hi", "stream": True, "tools": [tool]}
    )
    spec.check_stream_contract(events)
    types = [event["type"] for event in events]
    assert "response.mcp_list_tools.failed" in types and types[-1] == "response.failed"
    failed = events[-1]["response"]["output"][0]
    assert failed["type"] == "mcp_list_tools" and "Could not connect" in failed["error"]
    assert upstream.requests == []


@pytest.fixture
def server_url(server: str) -> str:
    return server

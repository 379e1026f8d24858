"""MCP approvals, credentials and unreachable servers, over HTTP with the openai SDK."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.support import spec
from tests.support.mcp_servers import TOKEN
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events
from tests.tools.conftest import McpServers

MODEL = "openai/gpt-4o"


def server(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "calc", "server_url": url, **extra}


def add_call(call_id: str = "call_a") -> Reply:
    return Reply(tool_calls=[{"id": call_id, "name": "add", "arguments": '{"a":1,"b":2}'}])


def error_of(server_url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server_url}/responses", json={"model": MODEL, **body}, timeout=30)


def test_approval_is_asked_by_default_then_the_approved_call_runs_once(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(add_call())
    asked = client.responses.create(model=MODEL, input="1+2", tools=[server(mcp.http_url)])
    request = asked.output[-1].model_dump()
    spec.assert_valid_item(request)
    assert request["type"] == "mcp_approval_request" and request["name"] == "add"
    assert mcp.calls["add"] == 0
    upstream.queue(Reply(content=["3"]))
    answer = {
        "type": "mcp_approval_response",
        "approval_request_id": request["id"],
        "approve": True,
    }
    approved = client.responses.create(
        model=MODEL, previous_response_id=asked.id, input=[answer], tools=[server(mcp.http_url)]
    )
    ran = approved.output[0].model_dump()
    spec.assert_valid_item(ran)
    assert (ran["type"], ran["output"], ran["approval_request_id"]) == (
        "mcp_call",
        "3",
        request["id"],
    )
    assert mcp.calls["add"] == 1
    assert upstream.requests[-1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": ran["id"],
        "content": "3",
    }
    # The same answer again: already answered.
    again = error_of(
        str(client.base_url).rstrip("/"),
        {"previous_response_id": approved.id, "input": [answer], "tools": [server(mcp.http_url)]},
    )
    assert again.status_code == 400 and "Already answered" in again.json()["error"]["message"]
    assert mcp.calls["add"] == 1


def test_a_refused_call_is_not_run_and_the_model_is_told(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(add_call())
    asked = client.responses.create(
        model=MODEL, input="1+2", tools=[server(mcp.http_url, require_approval="always")]
    )
    request_id = asked.output[-1].id
    upstream.queue(Reply(content=["ok"]))
    client.responses.create(
        model=MODEL,
        previous_response_id=asked.id,
        input=[
            {
                "type": "mcp_approval_response",
                "approval_request_id": request_id,
                "approve": False,
                "reason": "too risky",
            }
        ],
        tools=[server(mcp.http_url)],
    )
    assert mcp.calls["add"] == 0
    told = upstream.requests[-1]["messages"][-1]
    assert told["tool_call_id"] == request_id and "too risky" in told["content"]


def test_an_unknown_approval_id_is_a_400(server_url: str, mcp: McpServers) -> None:
    answer = {"type": "mcp_approval_response", "approval_request_id": "mcpr_x", "approve": True}
    response = error_of(server_url, {"input": [answer], "tools": [server(mcp.http_url)]})
    assert response.status_code == 400
    assert "Unknown approval request id 'mcpr_x'" in response.json()["error"]["message"]


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

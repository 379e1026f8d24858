"""MCP state kept across turns, on SQLite and PostgreSQL: a chained turn reuses the stored
listing, and approvals are answered from the stored request exactly once."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai

from tests.support import spec
from tests.support.mcp_fixtures import McpServers
from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"


def server(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "calc", "server_url": url, **extra}


def calc(url: str) -> dict[str, Any]:
    return server(url, require_approval="never")


def call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": json.dumps(arguments)}


def add_call(call_id: str = "call_a") -> Reply:
    return Reply(tool_calls=[call(call_id, "add", a=1, b=2)])


def create(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    response = client.responses.create(model=MODEL, input=body.pop("input", "hi"), **body)
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return data


def error_of(server_url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server_url}/responses", json={"model": MODEL, **body}, timeout=30)


def test_a_chained_turn_does_not_list_the_same_server_again(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    first = create(client, tools=[calc(mcp.http_url)])
    upstream.queue(Reply(tool_calls=[call("c1", "add", a=4, b=4)]), Reply(content=["8"]))
    second = create(
        client, tools=[calc(mcp.http_url)], previous_response_id=first["id"], input="4+4?"
    )
    assert [item["type"] for item in second["output"]] == ["mcp_call", "message"]
    assert {t["function"]["name"] for t in upstream.requests[-2]["tools"]} == {
        "add",
        "echo",
        "fail",
    }


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


def test_an_unknown_approval_id_is_a_400(backend_server: str, mcp: McpServers) -> None:
    answer = {"type": "mcp_approval_response", "approval_request_id": "mcpr_x", "approve": True}
    response = error_of(backend_server, {"input": [answer], "tools": [server(mcp.http_url)]})
    assert response.status_code == 400
    assert "Unknown approval request id 'mcpr_x'" in response.json()["error"]["message"]

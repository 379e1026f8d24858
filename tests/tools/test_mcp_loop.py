"""The tool loop with remote MCP servers: listing, calls fed back within one response,
errors, limits, streaming. Real FastMCP servers, the mock upstream, the openai SDK."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai

from tests.support import spec
from tests.support.mcp_fixtures import McpServers
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"


def calc(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "mcp",
        "server_label": "calc",
        "server_url": url,
        "require_approval": "never",
        **extra,
    }


def call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": json.dumps(arguments)}


def create(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    response = client.responses.create(model=MODEL, input=body.pop("input", "hi"), **body)
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return data


def test_a_call_runs_and_the_model_answers_with_its_result_in_one_response(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(Reply(tool_calls=[call("call_1", "add", a=2, b=3)]), Reply(content=["5"]))
    response = create(client, input="2+3?", tools=[calc(mcp.http_url)])
    assert [item["type"] for item in response["output"]] == [
        "mcp_list_tools",
        "mcp_call",
        "message",
    ]
    listing, mcp_call, answer = response["output"]
    assert {tool["name"] for tool in listing["tools"]} == {"add", "echo", "fail"}
    assert mcp_call["output"] == "5" and mcp_call["error"] is None
    assert mcp_call["status"] == "completed" and mcp_call["server_label"] == "calc"
    assert answer["content"][0]["text"] == "5"
    assert mcp.calls["add"] == 1
    first, second = upstream.requests
    assert {tool["function"]["name"] for tool in first["tools"]} == {"add", "echo", "fail"}
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]
    assert second["messages"][1]["tool_calls"][0]["function"]["name"] == "add"
    assert second["messages"][2]["content"] == "5"
    # usage sums both upstream calls (11 prompt tokens each in the mock)
    assert response["usage"]["input_tokens"] == 22


def test_the_stream_carries_the_mcp_events_numbered_without_gaps(
    server: str, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(Reply(tool_calls=[call("call_1", "echo", text="hi")]), Reply(content=["ok"]))
    body = {"model": MODEL, "input": "say hi", "stream": True, "tools": [calc(mcp.http_url)]}
    events = stream_events(server, body)
    spec.check_stream_contract(events)
    types = [event["type"] for event in events]
    assert types[2:6] == [
        "response.output_item.added",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.output_item.done",
    ]
    assert types[6:12] == [
        "response.output_item.added",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
    ]
    assert types[-1] == "response.completed"
    assert events[-1]["response"]["output"][1]["output"] == "hi"


def test_a_tool_error_is_the_calls_error_and_the_model_reads_it(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(Reply(tool_calls=[call("c1", "fail", reason="disk full")]), Reply(content=["x"]))
    response = create(client, tools=[calc(mcp.http_url)])
    failed = response["output"][1]
    assert failed["status"] == "failed" and "disk full" in failed["error"]
    assert response["status"] == "completed"
    assert "disk full" in upstream.requests[1]["messages"][-1]["content"]


def test_parallel_calls_run_and_keep_the_models_order(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(
        Reply(tool_calls=[call("c1", "add", a=1, b=1), call("c2", "echo", text="two")]),
        Reply(content=["done"]),
    )
    response = create(client, tools=[calc(mcp.http_url)], parallel_tool_calls=True)
    calls = [item for item in response["output"] if item["type"] == "mcp_call"]
    assert [(c["name"], c["output"]) for c in calls] == [("add", "2"), ("echo", "two")]
    tool_ids = [m["tool_call_id"] for m in upstream.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_ids == [c["id"] for c in calls]


def test_a_function_call_ends_the_turn_after_the_server_side_calls_ran(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    function = {"type": "function", "name": "ask_user", "parameters": {"type": "object"}}
    upstream.queue(Reply(tool_calls=[call("c1", "add", a=1, b=2), call("c2", "ask_user")]))
    response = create(client, tools=[calc(mcp.http_url), function])
    assert [item["type"] for item in response["output"]] == [
        "mcp_list_tools",
        "mcp_call",
        "function_call",
    ]
    assert response["output"][1]["output"] == "3"
    assert response["status"] == "completed"
    assert len(upstream.requests) == 1


def test_max_tool_calls_caps_the_calls_and_the_model_then_answers_without_tools(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(
        Reply(tool_calls=[call("c1", "add", a=1, b=1), call("c2", "add", a=2, b=2)]),
        Reply(content=["enough"]),
    )
    response = create(client, tools=[calc(mcp.http_url)], max_tool_calls=1)
    first, second = (item for item in response["output"] if item["type"] == "mcp_call")
    assert first["output"] == "2"
    assert second["status"] == "failed" and "max_tool_calls" in second["error"]
    assert mcp.calls["add"] == 1
    assert "tools" not in upstream.requests[1]


def test_the_same_call_repeated_ends_the_response_early(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(*(Reply(tool_calls=[call(f"c{n}", "echo", text="again")]) for n in range(3)))
    response = create(client, tools=[calc(mcp.http_url)])
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "repeated_tool_call"}
    assert mcp.calls["echo"] == 3 and len(upstream.requests) == 3


def test_allowed_tools_filter_the_listing_and_the_offer(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    response = create(client, tools=[calc(mcp.http_url, allowed_tools={"tool_names": ["echo"]})])
    assert [tool["name"] for tool in response["output"][0]["tools"]] == ["echo"]
    assert [t["function"]["name"] for t in upstream.requests[0]["tools"]] == ["echo"]


def test_the_sse_transport_lists_and_calls(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(Reply(tool_calls=[call("c1", "add", a=20, b=22)]), Reply(content=["42"]))
    response = create(client, tools=[calc(mcp.sse_url)])
    assert response["output"][1]["output"] == "42"


def test_tool_choice_names_an_mcp_tool(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(Reply(tool_calls=[call("c1", "echo", text="x")]), Reply(content=["x"]))
    create(
        client,
        tools=[calc(mcp.http_url)],
        tool_choice={"type": "mcp", "server_label": "calc", "name": "echo"},
    )
    first, second = upstream.requests
    assert first["tool_choice"] == {"type": "function", "function": {"name": "echo"}}
    assert second["tool_choice"] == "auto"  # forced once: the model then answers


def test_tool_choice_naming_no_listed_tool_is_a_400(client: openai.OpenAI, mcp: McpServers) -> None:
    try:
        client.responses.create(
            model=MODEL,
            input="hi",
            tools=[calc(mcp.http_url)],
            tool_choice={"type": "mcp", "server_label": "calc", "name": "nope"},
        )
    except openai.BadRequestError as error:
        assert error.body["param"] == "tool_choice"  # type: ignore[index]
    else:
        raise AssertionError("expected a 400")


def _tool_calls_metric(server_url: str, outcome: str) -> float:
    text = httpx.get(server_url.removesuffix("/v1") + "/metrics").text
    wanted = f'relaystack_tool_calls_total{{outcome="{outcome}",tool_type="mcp"}}'
    for line in text.splitlines():
        if line.startswith(wanted):
            return float(line.split()[-1])
    return 0.0


def test_tool_calls_are_counted_by_type_and_outcome(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers, server: str
) -> None:
    before = {o: _tool_calls_metric(server, o) for o in ("completed", "failed")}
    upstream.queue(
        Reply(tool_calls=[call("call_ok", "add", a=1, b=1), call("call_bad", "fail")]),
        Reply(content=["done"]),
    )
    create(client, tools=[calc(mcp.http_url)])
    # The listing and the good call completed; the failing tool's call failed.
    assert _tool_calls_metric(server, "completed") == before["completed"] + 2
    assert _tool_calls_metric(server, "failed") == before["failed"] + 1


def test_an_mcp_tool_named_like_a_function_is_offered_under_its_server_label(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    function = {"type": "function", "name": "add", "parameters": {"type": "object"}}
    upstream.queue(Reply(tool_calls=[call("c1", "calc__add", a=1, b=2)]), Reply(content=["3"]))
    response = create(client, tools=[function, calc(mcp.http_url)])
    names = [tool["function"]["name"] for tool in upstream.requests[0]["tools"]]
    assert sorted(names) == ["add", "calc__add", "echo", "fail"]
    ran = response["output"][1]
    assert (ran["type"], ran["name"], ran["output"]) == ("mcp_call", "add", "3")
    assert mcp.calls["add"] == 1

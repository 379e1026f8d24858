"""One MCP session per server per response: opened by the first operation, shared by the
listing and every call, ended (its DELETE) once the response is over, also when the
client left. Seen from the MCP server's side: what it was asked, in which session."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai

from tests.support import spec
from tests.support.mcp_fixtures import McpServers
from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"


def calc(url: str) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "calc", "server_url": url, "require_approval": "never"}


def call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": json.dumps(arguments)}


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """The session ends after the response (in the background): wait for it, bounded."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_the_listing_and_every_call_share_one_session_ended_after_the_response(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(
        Reply(tool_calls=[call("c1", "add", a=1, b=2), call("c2", "echo", text="x")]),
        Reply(tool_calls=[call("c3", "add", a=3, b=4)]),
        Reply(content=["done"]),
    )
    response = client.responses.create(model=MODEL, input="hi", tools=[calc(mcp.http_url)])  # type: ignore[list-item]
    spec.assert_valid_response(response.model_dump(exclude_unset=True))
    outputs = [item.output for item in response.output if item.type == "mcp_call"]
    assert outputs == ["3", "x", "7"]
    assert len(mcp.log.rpc("initialize")) == 1
    sessions = {seen.session for seen in mcp.log.rpc("tools/list") + mcp.log.rpc("tools/call")}
    assert len(mcp.log.rpc("tools/call")) == 3 and len(sessions) == 1
    assert None not in sessions
    assert eventually(lambda: mcp.log.deleted() == sessions)


def test_a_sessions_requests_reuse_their_connections(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    # Each POST's answer is an event stream the SDK closes once its answer came: read to
    # its end, the connection is reused. (Closed at once, as before, and with the SDK's
    # listening stream: five connections for these five requests.)
    upstream.queue(Reply(tool_calls=[call("c1", "add", a=1, b=2)]), Reply(content=["3"]))
    client.responses.create(model=MODEL, input="hi", tools=[calc(mcp.http_url)])  # type: ignore[list-item]
    assert eventually(lambda: len(mcp.log.deleted()) == 1)
    assert [seen.http_method for seen in mcp.log.seen] == ["POST"] * 4 + ["DELETE"]
    assert len({seen.port for seen in mcp.log.seen}) <= 3


def test_a_chained_turn_opens_its_session_at_the_first_call(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(Reply(content=["ready"]))
    first = client.responses.create(model=MODEL, input="hi", tools=[calc(mcp.http_url)])  # type: ignore[list-item]
    assert eventually(lambda: len(mcp.log.deleted()) == 1)
    upstream.queue(Reply(tool_calls=[call("c1", "echo", text="again")]), Reply(content=["ok"]))
    second = client.responses.create(
        model=MODEL,
        input="echo again",
        tools=[calc(mcp.http_url)],  # type: ignore[list-item]
        previous_response_id=first.id,
    )
    # No mcp_list_tools item again; a second session, opened for the call and ended after
    # it, which lists nothing either (a text result is not checked against a schema).
    assert [item.type for item in second.output] == ["mcp_call", "message"]
    assert len(mcp.log.rpc("initialize")) == 2
    (call_session,) = {seen.session for seen in mcp.log.rpc("tools/call")}
    (listing,) = mcp.log.rpc("tools/list")
    assert listing.session != call_session
    assert eventually(lambda: call_session in mcp.log.deleted() and len(mcp.log.deleted()) == 2)


def test_a_client_that_leaves_mid_response_ends_the_session_too(
    server: str, upstream: MockUpstream, mcp: McpServers
) -> None:
    upstream.queue(
        Reply(tool_calls=[call("c1", "add", a=1, b=1)]),
        Reply(content=["slow"] * 50, delay=0.2),  # still answering when the client leaves
    )
    body = {"model": MODEL, "input": "hi", "stream": True, "tools": [calc(mcp.http_url)]}
    with httpx.stream("POST", f"{server}/responses", json=body, timeout=30) as answer:
        for line in answer.iter_lines():
            if "response.output_text.delta" in line:
                break  # the call ran and the second model call is streaming: leave now
    assert mcp.calls["add"] == 1
    (session,) = {seen.session for seen in mcp.log.rpc("tools/call")}
    assert eventually(lambda: mcp.log.deleted() == {session})

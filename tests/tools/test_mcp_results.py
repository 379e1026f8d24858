"""What an ``mcp_call``'s output is made of: the result's text, or, when it has none, its
structured content, checked against the tool's output schema first (listing the tools in
the call's session when that session has not). A real FastMCP server whose tools answer
with structured content only; the mock upstream; the openai SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import openai
import pytest
from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult
from pydantic import BaseModel

from tests.support import spec
from tests.support.mcp_servers import RequestLog
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread

MODEL = "openai/gpt-4o"


class Both(BaseModel):
    sum: int
    product: int


def shapes_server() -> FastMCP:
    server = FastMCP("shapes", log_level="WARNING")

    @server.tool(description="The sum and the product, as structured content only.")
    def both(a: int, b: int) -> Annotated[CallToolResult, Both]:
        return CallToolResult(content=[], structuredContent={"sum": a + b, "product": a * b})

    @server.tool(description="A sum the output schema does not allow (a string).")
    def loose(a: int, b: int) -> Annotated[CallToolResult, Both]:
        # The server's own check is pydantic's (it takes "5" for 5); the schema's is not.
        return CallToolResult(content=[], structuredContent={"sum": str(a + b), "product": 0})

    return server


@pytest.fixture(scope="module")
def shapes() -> Iterator[tuple[str, RequestLog]]:
    log = RequestLog(shapes_server().streamable_http_app())
    with ServerThread(log) as thread:
        yield f"{thread.url}/mcp", log


def tool(url: str) -> Any:
    return {"type": "mcp", "server_label": "shapes", "server_url": url, "require_approval": "never"}


def call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": json.dumps(arguments)}


def test_structured_content_alone_is_the_output(
    client: openai.OpenAI, upstream: MockUpstream, shapes: tuple[str, RequestLog]
) -> None:
    url, _ = shapes
    upstream.queue(Reply(tool_calls=[call("c1", "both", a=2, b=3)]), Reply(content=["5, 6"]))
    response = client.responses.create(model=MODEL, input="2, 3", tools=[tool(url)])
    spec.assert_valid_response(response.model_dump(exclude_unset=True))
    (mcp_call,) = [item for item in response.output if item.type == "mcp_call"]
    assert mcp_call.status == "completed" and mcp_call.error is None
    assert json.loads(mcp_call.output or "") == {"sum": 5, "product": 6}


def test_structured_content_the_schema_refuses_fails_the_call(
    client: openai.OpenAI, upstream: MockUpstream, shapes: tuple[str, RequestLog]
) -> None:
    url, _ = shapes
    upstream.queue(Reply(tool_calls=[call("c1", "loose", a=2, b=3)]), Reply(content=["no"]))
    response = client.responses.create(model=MODEL, input="2, 3", tools=[tool(url)])
    (mcp_call,) = [item for item in response.output if item.type == "mcp_call"]
    assert mcp_call.status == "failed" and mcp_call.output is None
    assert "Invalid structured content returned by tool loose" in (mcp_call.error or "")


def test_a_chained_turn_lists_the_tools_to_check_structured_content(
    client: openai.OpenAI, upstream: MockUpstream, shapes: tuple[str, RequestLog]
) -> None:
    url, log = shapes
    upstream.queue(Reply(content=["ready"]))
    first = client.responses.create(model=MODEL, input="hi", tools=[tool(url)])
    log.seen.clear()
    upstream.queue(Reply(tool_calls=[call("c1", "both", a=4, b=5)]), Reply(content=["9, 20"]))
    second = client.responses.create(
        model=MODEL, input="4, 5", tools=[tool(url)], previous_response_id=first.id
    )
    assert [item.type for item in second.output] == ["mcp_call", "message"]
    assert json.loads(second.output[0].output or "") == {"sum": 9, "product": 20}  # type: ignore[union-attr]
    # The call's session listed the tools (no mcp_list_tools item) to read the schema.
    (listed,) = log.rpc("tools/list")
    (called,) = log.rpc("tools/call")
    assert listed.session == called.session

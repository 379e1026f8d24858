"""item_reference inputs: an earlier item, named by id, is sent upstream in its place."""

from __future__ import annotations

import httpx
import openai

from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"
TOOLS = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]


def test_referenced_items_replace_their_references(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(tool_calls=[{"id": "call_r", "name": "lookup", "arguments": "{}"}]))
    first = client.responses.create(model=MODEL, input="look it up", tools=TOOLS)
    question = client.responses.input_items.list(first.id).data[0]
    call = first.output[0]

    # No previous_response_id: the client re-sends the history by reference, as the
    # Codex CLI and the AI SDK do.
    client.responses.create(
        model=MODEL,
        tools=TOOLS,
        input=[
            {"type": "item_reference", "id": question.id},
            {"type": "item_reference", "id": call.id},
            {"type": "function_call_output", "call_id": call.call_id, "output": "42"},
        ],
    )
    messages = upstream.requests[-1]["messages"]
    assert messages[0] == {"role": "user", "content": "look it up"}
    assert messages[1]["tool_calls"][0]["id"] == "call_r"
    assert messages[2] == {"role": "tool", "tool_call_id": "call_r", "content": "42"}


def test_an_unknown_reference_is_a_404_naming_input(
    backend_server: str, upstream: MockUpstream
) -> None:
    sent = len(upstream.requests)
    reply = httpx.post(
        f"{backend_server}/responses",
        json={"model": MODEL, "input": [{"type": "item_reference", "id": "msg_nowhere"}]},
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["param"] == "input"
    assert "msg_nowhere" in reply.json()["error"]["message"]
    assert len(upstream.requests) == sent

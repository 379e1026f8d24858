"""``custom`` tools against a chat upstream: offered as a one-string function, called back
as ``custom_tool_call`` items with ``response.custom_tool_call_input.*`` events, answered
with ``custom_tool_call_output`` items, and forced with ``tool_choice: {"type": "custom"}``.

Items and events are checked against the official SDK's models (the Open Responses spec
has no custom tool items yet), through ``tests/support/spec.py``.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.types.responses import ResponseCustomToolCall

from relaystack.tools.custom_input import InputDecoder
from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"
PATCH = '*** Begin Patch\n*** Add File: a "quoted" name.txt\n+é\\ 😀\n*** End Patch\n'
APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Apply a patch to the workspace.",
    "format": {
        "type": "grammar",
        "syntax": "lark",
        "definition": 'start: "*** Begin Patch" LF /(.|\\n)*/ "*** End Patch" LF\n'
        "%import common.LF",
    },
}
DIGITS = {
    "type": "custom",
    "name": "digits",
    "format": {"type": "grammar", "syntax": "regex", "definition": "[0-9]+"},
}


def patch_call(call_id: str = "call_patch") -> Reply:
    arguments = json.dumps({"input": PATCH})
    return Reply(tool_calls=[{"id": call_id, "name": "apply_patch", "arguments": arguments}])


def test_a_custom_tool_is_offered_as_a_function_of_one_string(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["ok"]))
    client.responses.create(
        model=MODEL, input="patch it", tools=[APPLY_PATCH, DIGITS, {"type": "custom", "name": "t"}]
    )
    patch, digits, plain = upstream.requests[-1]["tools"]
    assert patch["function"]["name"] == "apply_patch"
    assert patch["function"]["description"] == "Apply a patch to the workspace."
    parameters = patch["function"]["parameters"]
    assert parameters["required"] == ["input"]
    assert parameters["properties"]["input"]["type"] == "string"
    assert parameters["properties"]["input"]["x-grammar"] == {
        "syntax": "lark",
        "definition": APPLY_PATCH["format"]["definition"],
    }
    assert APPLY_PATCH["format"]["definition"] in parameters["properties"]["input"]["description"]
    assert digits["function"]["parameters"]["properties"]["input"]["pattern"] == "^(?:[0-9]+)$"
    assert "pattern" not in plain["function"]["parameters"]["properties"]["input"]


def test_a_call_streams_as_a_custom_tool_call_with_its_input_decoded(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(patch_call())
    events = stream_events(server, {"model": MODEL, "input": "patch", "tools": [APPLY_PATCH]})
    spec.check_stream_contract(events)
    types = [event["type"] for event in events]
    assert "response.custom_tool_call_input.delta" in types
    assert "response.function_call_arguments.delta" not in types
    deltas = [e["delta"] for e in events if e["type"] == "response.custom_tool_call_input.delta"]
    assert "".join(deltas) == PATCH  # the input itself, not its JSON
    (done,) = [e for e in events if e["type"] == "response.custom_tool_call_input.done"]
    assert done["input"] == PATCH
    added = next(e for e in events if e["type"] == "response.output_item.added")
    assert added["item"] == {
        "id": added["item"]["id"],
        "type": "custom_tool_call",
        "call_id": "call_patch",
        "name": "apply_patch",
        "input": "",
    }
    final = events[-1]["response"]
    assert final["status"] == "completed"
    (item,) = final["output"]
    assert item["input"] == PATCH and item["call_id"] == "call_patch"


def test_the_sdk_reads_the_call_and_the_output_goes_back_as_a_tool_message(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(patch_call(), Reply(content=["patched"]))
    first = client.responses.create(model=MODEL, input="patch", tools=[APPLY_PATCH])
    (call,) = first.output
    assert isinstance(call, ResponseCustomToolCall)
    assert call.input == PATCH
    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[APPLY_PATCH],
        input=[{"type": "custom_tool_call_output", "call_id": call.call_id, "output": "Done!"}],
    )
    assert second.output_text == "patched"
    messages = upstream.requests[-1]["messages"]
    assert messages[-2] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_patch",
                "type": "function",
                "function": {
                    "name": "apply_patch",
                    "arguments": json.dumps(
                        {"input": PATCH}, ensure_ascii=False, separators=(",", ":")
                    ),
                },
            }
        ],
    }
    assert messages[-1] == {"role": "tool", "tool_call_id": "call_patch", "content": "Done!"}
    stored = client.responses.input_items.list(second.id).model_dump()["data"]
    spec.assert_openai_shape({k: v for k, v in stored[0].items() if v is not None})


def test_stateless_clients_send_the_call_and_its_output_back_as_input(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["fine"]))
    client.responses.create(
        model=MODEL,
        store=False,
        tools=[APPLY_PATCH],
        input=[
            {"role": "user", "content": "patch"},
            {
                "type": "custom_tool_call",
                "call_id": "c1",
                "name": "apply_patch",
                "input": PATCH,
                "status": "completed",
            },
            {
                "type": "custom_tool_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": "ok"}],
            },
        ],
    )
    messages = upstream.requests[-1]["messages"]
    assert json.loads(messages[1]["tool_calls"][0]["function"]["arguments"]) == {"input": PATCH}
    assert messages[2] == {"role": "tool", "tool_call_id": "c1", "content": "ok"}


def test_tool_choice_custom_forces_the_function(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(patch_call())
    response = client.responses.create(
        model=MODEL,
        input="patch",
        tools=[APPLY_PATCH, DIGITS],
        tool_choice={"type": "custom", "name": "apply_patch"},
    )
    assert upstream.requests[-1]["tool_choice"] == {
        "type": "function",
        "function": {"name": "apply_patch"},
    }
    assert response.tool_choice.type == "custom"
    spec.assert_valid_response(response.model_dump(exclude_none=False))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tool_choice": {"type": "custom", "name": "nope"}}, "tool_choice"),
        (
            {
                "tools": [
                    {
                        **APPLY_PATCH,
                        "format": {"type": "grammar", "syntax": "gbnf", "definition": "x"},
                    }
                ]
            },
            "tools[0].format.syntax",
        ),
        (
            {"tools": [{**APPLY_PATCH, "format": {"type": "grammar", "syntax": "regex"}}]},
            "tools[0].format.definition",
        ),
        ({"tools": [{**APPLY_PATCH, "name": "has space"}]}, "tools[0].name"),
    ],
)
def test_bad_custom_tools_are_400s_naming_the_parameter(
    client: openai.OpenAI, body: dict[str, Any], param: str
) -> None:
    request = {"model": MODEL, "input": "x", "tools": [APPLY_PATCH], **body}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(**request)
    assert caught.value.body["param"] == param, caught.value.body  # type: ignore[index]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_the_input_decoder_is_exact_however_the_json_is_cut(size: int) -> None:
    raw = json.dumps({"input": PATCH})
    decoder = InputDecoder()
    pieces = [decoder.feed(raw[i : i + size]) for i in range(0, len(raw), size)]
    assert "".join(pieces) == PATCH

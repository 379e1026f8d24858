"""The event builder without sockets: chat chunks in, spec-valid Responses events out."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from relaystack.errors import ApiError
from relaystack.ids import Clock, IdSource
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.resource import new_response
from relaystack.responses.stream import TurnStream
from relaystack.tools.function import FUNCTION
from tests.support import spec


def _ids() -> IdSource:
    numbers = count()
    return IdSource(make=lambda prefix: f"{prefix}_{next(numbers):04d}")


def _machine(**request: Any) -> TurnStream:
    parsed = CreateResponseRequest.model_validate({"model": "m/x", "input": "hi", **request})
    response = new_response(parsed, "resp_0", 1_700_000_000)
    tools = {tool["name"]: FUNCTION for tool in request.get("tools", [])}
    return TurnStream(response, _ids(), Clock(now=lambda: 1_700_000_001.0), tools)


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}


def _run(machine: TurnStream, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events = list(machine.start())
    for chunk in chunks:
        events += machine.feed(chunk)
    events += machine.finish()
    return [dict(event) for event in events]


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def test_text_makes_the_canonical_bracket_and_every_event_is_spec_valid() -> None:
    machine = _machine()
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    chunks = [_chunk({"content": "Hel"}), _chunk({"content": "lo"}), _chunk(finish="stop")]
    events = _run(machine, [*chunks, {"choices": [], "usage": usage}])
    spec.check_stream_contract(events)
    assert _types(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1]["response"]
    spec.assert_valid_response(final)
    assert final["output"][0]["content"][0]["text"] == "Hello"
    assert final["output"][0]["status"] == "completed"
    assert final["usage"]["total_tokens"] == 5
    assert final["completed_at"] == 1_700_000_001


def test_snapshots_do_not_change_after_they_are_emitted() -> None:
    machine = _machine()
    events = _run(machine, [_chunk({"content": "a"}), _chunk(finish="stop")])
    assert events[0]["response"]["output"] == []
    assert events[2]["item"]["status"] == "in_progress"


def test_function_call_is_opened_and_closed_by_the_function_tool() -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    machine = _machine(tools=tools)
    call = {"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": '{"ci'}}
    more = {"index": 0, "function": {"arguments": 'ty":"Oslo"}'}}
    events = _run(
        machine,
        [
            _chunk({"tool_calls": [call]}),
            _chunk({"tool_calls": [more]}),
            _chunk(finish="tool_calls"),
        ],
    )
    spec.check_stream_contract(events)
    assert _types(events)[2:] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    item = events[-1]["response"]["output"][0]
    assert item["type"] == "function_call"
    assert (item["call_id"], item["name"]) == ("call_1", "get_weather")
    assert item["arguments"] == '{"city":"Oslo"}'
    assert events[-3]["name"] == "get_weather"


def test_a_call_of_a_name_no_tool_offered_is_still_a_function_call() -> None:
    call = {"index": 0, "id": "call_9", "function": {"name": "made_up", "arguments": "{}"}}
    events = _run(_machine(), [_chunk({"tool_calls": [call]}), _chunk(finish="tool_calls")])
    spec.check_stream_contract(events)
    assert events[-1]["response"]["output"][0]["type"] == "function_call"


def test_two_calls_in_one_turn_become_two_items_in_model_order() -> None:
    first = {"index": 0, "id": "call_a", "function": {"name": "a", "arguments": "{}"}}
    second = {"index": 1, "id": "call_b", "function": {"name": "b", "arguments": "{}"}}
    events = _run(
        _machine(), [_chunk({"tool_calls": [first, second]}), _chunk(finish="tool_calls")]
    )
    spec.check_stream_contract(events)
    output = events[-1]["response"]["output"]
    assert [item["call_id"] for item in output] == ["call_a", "call_b"]


def test_reasoning_then_text_opens_two_items() -> None:
    chunks = [
        _chunk({"reasoning_content": "think"}),
        _chunk({"content": "answer"}),
        _chunk(finish="stop"),
    ]
    events = _run(_machine(), chunks)
    spec.check_stream_contract(events)
    output = events[-1]["response"]["output"]
    assert [item["type"] for item in output] == ["reasoning", "message"]
    assert output[0]["content"] == [{"type": "reasoning_text", "text": "think"}]


def test_length_finish_is_incomplete_with_its_reason() -> None:
    events = _run(_machine(), [_chunk({"content": "cut"}), _chunk(finish="length")])
    spec.check_stream_contract(events)
    final = events[-1]["response"]
    assert events[-1]["type"] == "response.incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["output"][0]["status"] == "incomplete"


def test_failure_closes_the_open_item_and_numbers_on() -> None:
    machine = _machine()
    events = list(machine.start()) + machine.feed(_chunk({"content": "par"}))
    events += machine.fail(ApiError("upstream went away", code="upstream_error", status_code=502))
    events = [dict(event) for event in events]
    spec.check_stream_contract(events)
    final = events[-1]["response"]
    assert final["status"] == "failed"
    # relaystack's own code becomes the Responses code clients know.
    assert final["error"] == {"code": "server_error", "message": "upstream went away"}
    assert final["output"][0]["status"] == "incomplete"


def test_refail_replaces_the_terminal_event_keeping_its_number() -> None:
    machine = _machine()
    events = list(machine.start()) + machine.feed(_chunk({"content": "x"}))
    ending = machine.finish()
    replaced = machine.refail(ending, ApiError("conversation was deleted", code="not_found"))
    events = [dict(event) for event in [*events, *replaced]]
    spec.check_stream_contract(events)
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["sequence_number"] == ending[-1]["sequence_number"]
    assert events[-1]["response"]["completed_at"] is None


@pytest.mark.parametrize("finish", ["stop", "tool_calls"])
def test_an_empty_answer_completes_with_no_output(finish: str) -> None:
    events = _run(_machine(), [_chunk(finish=finish)])
    spec.check_stream_contract(events)
    assert events[-1]["response"]["output"] == []

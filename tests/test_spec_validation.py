"""Every response object and stream event validates against the Open Responses spec.

Streams are read as raw SSE (httpx) so the framing is checked too: each frame's
``event:`` line equals its data's ``type`` and ``sequence_number`` counts 0, 1, 2, ...
Reasoning events use OpenAI's names (``response.reasoning_text.*``), a deliberate
deviation from the spec's ``response.reasoning.*``; see ``tests/support/spec.py``.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"


# ----- helpers -------------------------------------------------------------------


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def collapse_deltas(types: list[str]) -> list[str]:
    """Event types with runs of one delta type collapsed to one entry."""
    collapsed: list[str] = []
    for event_type in types:
        if event_type.endswith(".delta") and collapsed and collapsed[-1] == event_type:
            continue
        collapsed.append(event_type)
    return collapsed


def get_json(server: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=server, timeout=30) as http:
        return http.get(path)


def check_stored_matches(server: str, final: dict[str, Any]) -> dict[str, Any]:
    """GET returns a spec-valid copy of the streamed final response."""
    fetched = get_json(server, f"/responses/{final['id']}")
    assert fetched.status_code == 200, fetched.text
    stored = fetched.json()
    spec.assert_valid_response(stored)
    assert stored["status"] == final["status"]
    assert stored["output"] == final["output"]
    assert stored["error"] == final["error"]
    assert stored["incomplete_details"] == final["incomplete_details"]
    return stored


# ----- the validator itself ------------------------------------------------------


def test_the_spec_validator_rejects_wrong_shapes() -> None:
    good = {
        "type": "response.output_text.delta",
        "sequence_number": 3,
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "hi",
    }
    spec.assert_valid_event(good)
    assert spec.problems("ResponseOutputTextDeltaStreamingEvent", {**good, "delta": 5})
    assert spec.problems("ResponseOutputTextDeltaStreamingEvent", {**good, "item_id": None})
    with pytest.raises(AssertionError):
        spec.assert_valid_event({**good, "type": "response.made_up"})
    # $refs resolve: a response whose output item is malformed is rejected deep inside.
    assert spec.problems("ItemField", {"type": "message", "id": "m", "role": "user"})


def test_reasoning_events_are_checked_against_the_renamed_spec_schemas() -> None:
    delta = {
        "type": "response.reasoning_text.delta",
        "sequence_number": 1,
        "item_id": "rs_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "thinking",
    }
    spec.assert_valid_event(delta)
    with pytest.raises(AssertionError):
        spec.assert_valid_event({**delta, "content_index": "zero"})


# ----- (a) a text answer ---------------------------------------------------------


def test_text_stream_is_canonical_and_spec_valid(server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["Hello", ",", " world"]))
    events = stream_events(server, {"model": MODEL, "input": "Say hello"})
    spec.check_stream_contract(events)

    assert types_of(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2]
    assert added["item"]["type"] == "message"
    assert added["item"]["status"] == "in_progress"
    item_id = added["item"]["id"]
    for event in events[3:9]:
        assert (event["item_id"], event["output_index"], event["content_index"]) == (item_id, 0, 0)
    assert "".join(e["delta"] for e in events[4:7]) == "Hello, world"
    assert events[7]["text"] == "Hello, world"
    assert events[8]["part"]["text"] == "Hello, world"
    done_item = events[9]["item"]
    assert done_item["id"] == item_id
    assert done_item["status"] == "completed"
    assert done_item["content"][0]["text"] == "Hello, world"

    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert isinstance(final["completed_at"], int)
    assert final["output"] == [done_item]
    check_stored_matches(server, final)


def test_text_response_non_streaming_is_spec_valid(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Plain", " answer"]))
    raw = client.responses.with_raw_response.create(model=MODEL, input="Answer plainly")
    body = raw.http_response.json()
    spec.assert_valid_response(body)
    assert body["status"] == "completed"
    assert raw.parse().output_text == "Plain answer"
    stored = check_stored_matches(server, body)
    assert stored["id"] == body["id"]


def test_sdk_stream_parses_every_event(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["SDK", " stream"]))
    stream = client.responses.create(model=MODEL, input="Stream please", stream=True)
    events = list(stream)
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "SDK stream"
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["SDK", " stream"]


# ----- (b) a function call -------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def test_function_call_stream_is_canonical_and_spec_valid(
    server: str, upstream: MockUpstream
) -> None:
    arguments = '{"city": "Paris"}'
    upstream.queue(
        Reply(tool_calls=[{"id": "call_w1", "name": "get_weather", "arguments": arguments}])
    )
    events = stream_events(
        server, {"model": MODEL, "input": "Weather in Paris?", "tools": [WEATHER_TOOL]}
    )
    spec.check_stream_contract(events)

    assert collapse_deltas(types_of(events)) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[2]["item"]
    assert added["type"] == "function_call"
    assert added["status"] == "in_progress"
    assert (added["call_id"], added["name"]) == ("call_w1", "get_weather")
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert all(e["item_id"] == added["id"] for e in deltas)
    assert "".join(e["delta"] for e in deltas) == arguments
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == arguments
    assert done["item_id"] == added["id"]
    item = events[-2]["item"]
    assert item["status"] == "completed"
    assert (item["call_id"], item["name"], item["arguments"]) == (
        "call_w1",
        "get_weather",
        arguments,
    )
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["output"] == [item]
    assert final["tools"][0]["name"] == "get_weather"
    check_stored_matches(server, final)


def test_function_call_non_streaming_is_spec_valid(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(
            tool_calls=[
                {"id": "call_a", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
                {"id": "call_b", "name": "get_weather", "arguments": '{"city":"Rome"}'},
            ]
        )
    )
    raw = client.responses.with_raw_response.create(
        model=MODEL, input="Weather in Oslo and Rome?", tools=[WEATHER_TOOL]
    )
    body = raw.http_response.json()
    spec.assert_valid_response(body)
    calls = [item for item in body["output"] if item["type"] == "function_call"]
    assert [(c["call_id"], c["arguments"]) for c in calls] == [
        ("call_a", '{"city":"Oslo"}'),
        ("call_b", '{"city":"Rome"}'),
    ]
    parsed = raw.parse()
    assert [item.type for item in parsed.output] == ["function_call", "function_call"]


# ----- (c) a failed stream -------------------------------------------------------


def test_broken_stream_ends_with_a_spec_valid_response_failed(
    server: str, upstream: MockUpstream
) -> None:
    # Chunk 0 opens the assistant message, chunk 1 is "Half"; then the connection drops.
    upstream.queue(Reply(content=["Half", " of", " it"], break_after=2))
    events = stream_events(server, {"model": MODEL, "input": "Break please"})
    spec.check_stream_contract(events)

    assert events[-1]["type"] == "response.failed"
    assert "response.completed" not in types_of(events)
    failed = events[-1]["response"]
    assert failed["status"] == "failed"
    assert isinstance(failed["error"]["code"], str) and failed["error"]["code"]
    assert isinstance(failed["error"]["message"], str) and failed["error"]["message"]
    # Every item that was opened is closed before the terminal event.
    added = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    done = [e["output_index"] for e in events if e["type"] == "response.output_item.done"]
    assert added == done
    stored = check_stored_matches(server, failed)
    assert stored["status"] == "failed"
    assert stored["error"]["code"] == failed["error"]["code"]


def test_stream_failing_before_any_output_is_spec_valid(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["never"], break_after=0))
    events = stream_events(server, {"model": MODEL, "input": "Fail at once"})
    spec.check_stream_contract(events)
    assert types_of(events) == ["response.created", "response.in_progress", "response.failed"]
    stored = check_stored_matches(server, events[-1]["response"])
    assert stored["status"] == "failed"
    assert stored["output"] == []


# ----- (d) reasoning + text ------------------------------------------------------


def test_reasoning_then_text_stream_is_canonical_and_spec_valid(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(reasoning=["Six", " times", " seven."], content=["42"]))
    events = stream_events(server, {"model": MODEL, "input": "What is 6*7?"})
    spec.check_stream_contract(events)

    assert collapse_deltas(types_of(events)) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    reasoning_done = next(e for e in events if e["type"] == "response.reasoning_text.done")
    assert reasoning_done["text"] == "Six times seven."
    final = events[-1]["response"]
    reasoning, message = final["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "Six times seven."}]
    assert message["type"] == "message"
    assert message["content"][0]["text"] == "42"
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [0, 1]
    check_stored_matches(server, final)


def test_reasoning_response_non_streaming_is_spec_valid(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(reasoning=["Hmm."], content=["Yes"]))
    raw = client.responses.with_raw_response.create(model=MODEL, input="Think, then answer")
    body = raw.http_response.json()
    spec.assert_valid_response(body)
    assert [item["type"] for item in body["output"]] == ["reasoning", "message"]
    assert raw.parse().output_text == "Yes"


# ----- (e) an incomplete response ------------------------------------------------


def test_length_limited_stream_ends_incomplete_and_spec_valid(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Once", " upon"], finish_reason="length"))
    events = stream_events(
        server, {"model": MODEL, "input": "Tell a long story", "max_output_tokens": 16}
    )
    spec.check_stream_contract(events)

    assert events[-1]["type"] == "response.incomplete"
    final = events[-1]["response"]
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["max_output_tokens"] == 16
    assert final["output"][0]["status"] == "incomplete"
    assert final["output"][0]["content"][0]["text"] == "Once upon"
    assert upstream.requests[-1]["max_completion_tokens"] == 16
    stored = check_stored_matches(server, final)
    assert stored["status"] == "incomplete"


def test_length_limited_response_non_streaming_is_spec_valid(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Cut"], finish_reason="length"))
    raw = client.responses.with_raw_response.create(
        model=MODEL, input="Go on and on", max_output_tokens=20
    )
    body = raw.http_response.json()
    spec.assert_valid_response(body)
    assert body["status"] == "incomplete"
    assert body["incomplete_details"]["reason"] == "max_output_tokens"
    assert raw.parse().incomplete_details.reason == "max_output_tokens"


# ----- stored objects and lists --------------------------------------------------


def test_retrieved_listed_and_input_items_are_spec_valid(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(reasoning=["Plan."], content=["Done"]),
        Reply(tool_calls=[{"id": "call_l1", "name": "get_weather", "arguments": "{}"}]),
    )
    first = client.responses.create(
        model=MODEL,
        instructions="Be brief.",
        metadata={"suite": "spec"},
        input=[
            {"role": "system", "content": "System words"},
            {"role": "developer", "content": [{"type": "input_text", "text": "Dev words"}]},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Look"},
                    {"type": "input_image", "image_url": "https://example.com/a.png"},
                ],
            },
            {"role": "assistant", "content": "Earlier answer"},
            {"role": "user", "content": "Now answer"},
        ],
    )
    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[WEATHER_TOOL],
        input=[
            {
                "type": "function_call",
                "call_id": "call_x",
                "name": "get_weather",
                "arguments": "{}",
            },
            {"type": "function_call_output", "call_id": "call_x", "output": "cloudy"},
        ],
    )

    for response_id in (first.id, second.id):
        fetched = get_json(server, f"/responses/{response_id}")
        assert fetched.status_code == 200
        spec.assert_valid_response(fetched.json())

    listing = get_json(server, "/responses?limit=5")
    assert listing.status_code == 200
    page = listing.json()
    assert page["object"] == "list"
    assert isinstance(page["has_more"], bool)
    listed_ids = [item["id"] for item in page["data"]]
    assert listed_ids[:2] == [second.id, first.id]
    for item in page["data"]:
        spec.assert_valid_response(item)

    for response_id, count in ((first.id, 5), (second.id, 2)):
        items = get_json(server, f"/responses/{response_id}/input_items")
        assert items.status_code == 200
        data = items.json()["data"]
        assert len(data) == count
        for item in data:
            spec.assert_valid_item(item)


# ----- more shapes: refusal, text then tool call, upstream refusal at start ------


def test_refusal_stream_is_spec_valid(server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(refusal=["I can't", " do that."]))
    events = stream_events(server, {"model": MODEL, "input": "Do something bad"})
    spec.check_stream_contract(events)
    assert collapse_deltas(types_of(events)) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    done = next(e for e in events if e["type"] == "response.refusal.done")
    assert done["refusal"] == "I can't do that."
    check_stored_matches(server, events[-1]["response"])


def test_text_then_two_tool_calls_stream_is_spec_valid(server: str, upstream: MockUpstream) -> None:
    upstream.queue(
        Reply(
            content=["Checking."],
            tool_calls=[
                {"id": "call_m1", "name": "get_weather", "arguments": '{"city":"A"}'},
                {"id": "call_m2", "name": "get_weather", "arguments": '{"city":"B"}'},
            ],
        )
    )
    events = stream_events(server, {"model": MODEL, "input": "Two cities", "tools": [WEATHER_TOOL]})
    spec.check_stream_contract(events)
    added = [e for e in events if e["type"] == "response.output_item.added"]
    done = [e for e in events if e["type"] == "response.output_item.done"]
    assert [(e["output_index"], e["item"]["type"]) for e in added] == [
        (0, "message"),
        (1, "function_call"),
        (2, "function_call"),
    ]
    assert [e["output_index"] for e in done] == [0, 1, 2]
    # Items are bracketed one after another, never interleaved.
    positions = {e["sequence_number"]: e for e in added + done}
    kinds = [positions[n]["type"].rsplit(".", 1)[-1] for n in sorted(positions)]
    assert kinds == ["added", "done"] * 3
    final = events[-1]["response"]
    assert [item.get("call_id") for item in final["output"]] == [None, "call_m1", "call_m2"]
    check_stored_matches(server, final)


def test_upstream_refusing_a_stream_ends_in_a_spec_valid_failure(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(status=400, error_body={"error": {"message": "context too long", "code": "ctx"}})
    )
    events = stream_events(server, {"model": MODEL, "input": "Too long"})
    spec.check_stream_contract(events)
    assert events[-1]["type"] == "response.failed"
    error = events[-1]["response"]["error"]
    assert "context too long" in error["message"]
    # The upstream's own code ("ctx") is never passed on: its words name OpenAI's code.
    assert error["code"] == "context_length_exceeded"
    assert check_stored_matches(server, events[-1]["response"])["status"] == "failed"


# ----- the SDK's own stream helpers accept the event sequence --------------------


def test_sdk_stream_helper_accumulates_text_and_reasoning(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(reasoning=["Think", "ing"], content=["Final", " words"]))
    with client.responses.stream(model=MODEL, input="Helper stream") as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.reasoning_text.delta" in seen
    assert final.output_text == "Final words"
    assert final.output[0].type == "reasoning"


def test_sdk_stream_helper_accumulates_function_calls(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(tool_calls=[{"id": "call_h", "name": "get_weather", "arguments": '{"city":"Lima"}'}])
    )
    with client.responses.stream(model=MODEL, input="Lima?", tools=[WEATHER_TOOL]) as stream:
        final = stream.get_final_response()
    (call,) = final.output
    assert (call.type, call.call_id, call.arguments) == (
        "function_call",
        "call_h",
        '{"city":"Lima"}',
    )

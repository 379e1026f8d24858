"""What reference clients read from a Responses stream beyond the bare spec: the
response id on content-part and output-text events (OGX's clients read it there), and
``data: [DONE]`` at the end of every stream (the spec's terminator), which the openai
SDK stops at."""

from __future__ import annotations

import httpx
import openai

from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.spec import check_stream_contract
from tests.support.sse import parse_frames, stream_events

MODEL = "openai/gpt-4o"
CARRY_RESPONSE_ID = {
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
}


def test_content_part_and_output_text_events_name_their_response(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["one", " two"]))
    events = stream_events(server, {"model": MODEL, "input": "hi"})
    check_stream_contract(events)  # the extra field leaves them spec-valid
    response_id = events[0]["response"]["id"]
    carrying = [e for e in events if e["type"] in CARRY_RESPONSE_ID]
    assert {e["type"] for e in carrying} == CARRY_RESPONSE_ID
    assert all(e["response_id"] == response_id for e in carrying)


def test_refusal_and_reasoning_text_events_are_unchanged(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(reasoning=["think"], refusal=["no"]))
    events = stream_events(server, {"model": MODEL, "input": "hi"})
    check_stream_contract(events)
    others = [e for e in events if e["type"].startswith(("response.refusal", "response.reasoning"))]
    assert others and not [e for e in others if "response_id" in e]


def test_every_responses_stream_ends_with_done(server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["ok"]), Reply(content=["a", "b", "c"], break_after=2))
    for prompt in ("completes", "breaks"):
        with httpx.Client(timeout=30) as http:
            reply = http.post(
                f"{server}/responses", json={"model": MODEL, "input": prompt, "stream": True}
            )
        frames = parse_frames(reply.text)
        assert reply.text.endswith("data: [DONE]\n\n")
        assert frames[-1].event is None and frames[-1].data == "[DONE]"
        assert frames[-2].data["type"] in ("response.completed", "response.failed")


def test_the_sdk_reads_a_stream_ending_with_done(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["SDK", " reads"]), Reply(content=["SDK", " reads"]))
    with client.responses.stream(model=MODEL, input="hi") as stream:
        helper_events = list(stream)
        final = stream.get_final_response()
    assert helper_events[-1].type == "response.completed"
    assert final.output_text == "SDK reads"
    events = list(client.responses.create(model=MODEL, input="hi", stream=True))
    assert events[-1].type == "response.completed"
    deltas = [e.to_dict() for e in events if e.type == "response.output_text.delta"]
    assert [d["delta"] for d in deltas] == ["SDK", " reads"]
    # The SDK keeps the extra field on the event it parsed.
    assert {d["response_id"] for d in deltas} == {events[-1].response.id}

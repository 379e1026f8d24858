"""Stateless reasoning: with ``include: ["reasoning.encrypted_content"]`` a reasoning item
carries its text sealed with the server's key; sent back on a later turn it is opened
into that turn's context; altered, it is a 400 naming the item. Asked for a summary, the
upstream's reasoning streams as ``response.reasoning_summary_*`` events."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"
ENCRYPTED = ["reasoning.encrypted_content"]
THOUGHT = ["The user", " greets me;", " answer briefly."]


def reasoning_reply() -> Reply:
    return Reply(reasoning=THOUGHT, content=["Hello!"])


def first_turn(client: openai.OpenAI, upstream: MockUpstream) -> dict[str, Any]:
    upstream.queue(reasoning_reply())
    response = client.responses.create(model=MODEL, input="hi", store=False, include=ENCRYPTED)
    reasoning = response.output[0].model_dump(exclude_none=True)
    assert reasoning["type"] == "reasoning"
    return reasoning


def test_reasoning_items_carry_a_sealed_copy_of_their_text(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(reasoning_reply())
    events = stream_events(
        server, {"model": MODEL, "input": "hi", "store": False, "include": ENCRYPTED}
    )
    spec.check_stream_contract(events)
    done = next(e for e in events if e["type"] == "response.output_item.done")
    item = done["item"]
    assert item["type"] == "reasoning"
    assert item["content"] == [{"type": "reasoning_text", "text": "".join(THOUGHT)}]
    blob = item["encrypted_content"]
    assert isinstance(blob, str) and "greets" not in blob
    assert events[-1]["response"]["output"][0]["encrypted_content"] == blob


def test_without_include_there_is_no_blob(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(reasoning_reply())
    response = client.responses.create(model=MODEL, input="hi", store=False)
    assert response.output[0].encrypted_content is None  # type: ignore[union-attr]


def test_the_blob_sent_back_is_opened_into_the_next_turn(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    reasoning = first_turn(client, upstream)
    sent = {k: v for k, v in reasoning.items() if k not in ("content", "status")}
    upstream.queue(Reply(content=["Fine."]))
    # Stored this time, so the input the server saw can be read back.
    second = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "hi"},
            sent,  # type: ignore[list-item]
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "how are you?"},
        ],
        include=ENCRYPTED,
    )
    assert second.output_text == "Fine."
    items = client.responses.input_items.list(second.id, order="asc").model_dump()["data"]
    opened = items[1]
    assert opened["type"] == "reasoning"
    assert opened["content"] == [{"type": "reasoning_text", "text": "".join(THOUGHT)}]
    spec.assert_valid_item({k: v for k, v in opened.items() if v is not None})


@pytest.mark.parametrize("how", ["altered", "foreign"])
def test_an_altered_blob_is_a_400_naming_the_item(
    client: openai.OpenAI, upstream: MockUpstream, how: str
) -> None:
    reasoning = first_turn(client, upstream)
    blob = reasoning["encrypted_content"]
    if how == "altered":
        middle = len(blob) // 2
        blob = blob[:middle] + ("A" if blob[middle] != "A" else "B") + blob[middle + 1 :]
    else:
        blob = "rs1.bm90IG91cnMgYXQgYWxsIG5vdCBvdXJzIGF0IGFsbA=="
    before = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=MODEL,
            store=False,
            input=[
                {"role": "user", "content": "hi"},
                {**reasoning, "encrypted_content": blob},  # type: ignore[list-item]
            ],
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "input[1].encrypted_content"
    assert reasoning["id"] in error["message"]
    assert len(upstream.requests) == before  # refused before any upstream call


def test_a_summary_asked_for_streams_as_summary_events(server: str, upstream: MockUpstream) -> None:
    upstream.queue(reasoning_reply())
    events = stream_events(
        server,
        {
            "model": MODEL,
            "input": "hi",
            "reasoning": {"effort": "low", "summary": "auto"},
            "include": ENCRYPTED,
        },
    )
    spec.check_stream_contract(events)
    types = [e["type"] for e in events]
    assert "response.reasoning_text.delta" not in types
    deltas = [e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta"]
    assert deltas == THOUGHT
    order = [t for t in types if "summary" in t and not t.endswith(".delta")]
    assert order == [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ]
    item = events[-1]["response"]["output"][0]
    assert item["summary"] == [{"type": "summary_text", "text": "".join(THOUGHT)}]
    assert item["content"] == [] and item["encrypted_content"]

"""``conversation`` on ``POST /v1/responses``: context in, turn appended, on both backends."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import func, select

from relaystack.store.schema import responses
from relaystack.store.sql import SqlStore
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.not_found import CONV_HINT
from tests.support.sse import stream_events


def _items(client: openai.OpenAI, conversation_id: str) -> list[Any]:
    return list(client.conversations.items.list(conversation_id, order="asc", limit=100))


def _text(item: Any) -> str:
    return item.content[0].text


def test_a_turn_reads_the_conversation_then_joins_it(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    conversation = client.conversations.create(
        items=[{"role": "user", "content": "My name is Ada."}]
    )
    first = client.responses.create(
        model="openai/gpt-4o", input="What is my name?", conversation=conversation.id
    )
    assert first.status == "completed"
    assert first.conversation is not None and first.conversation.id == conversation.id
    assert upstream.requests[-1]["messages"] == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "user", "content": "What is my name?"},
    ]
    items = _items(client, conversation.id)
    assert [item.role for item in items] == ["user", "user", "assistant"]
    assert items[-1].id == first.output[0].id
    assert _text(items[-1]) == "echo: What is my name?"
    assert items[1].id == client.responses.input_items.list(first.id).data[0].id

    # The object form of the parameter; the context now holds the first turn too.
    second = client.responses.create(
        model="openai/gpt-4o", input="And again?", conversation={"id": conversation.id}
    )
    assert second.conversation is not None and second.conversation.id == conversation.id
    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "My name is Ada.",
        "What is my name?",
        "echo: What is my name?",
        "And again?",
    ]
    assert [_text(item) for item in _items(client, conversation.id)] == [
        "My name is Ada.",
        "What is my name?",
        "echo: What is my name?",
        "And again?",
        "echo: And again?",
    ]
    assert client.responses.retrieve(second.id).conversation.id == conversation.id


def test_streamed_turns_join_the_conversation_when_they_complete(client: openai.OpenAI) -> None:
    conversation = client.conversations.create()
    stream = client.responses.create(
        model="openai/gpt-4o", input="streamed", conversation=conversation.id, stream=True
    )
    events = list(stream)
    assert events[-1].type == "response.completed"
    assert events[0].response.conversation.id == conversation.id
    assert [_text(item) for item in _items(client, conversation.id)] == [
        "streamed",
        "echo: streamed",
    ]


def test_input_may_come_from_items_appended_beforehand(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    conversation = client.conversations.create()
    client.conversations.items.create(
        conversation.id, items=[{"role": "user", "content": "appended first"}]
    )
    response = client.responses.create(model="openai/gpt-4o", conversation=conversation.id)
    assert response.output_text == "echo: appended first"
    assert upstream.requests[-1]["messages"] == [{"role": "user", "content": "appended first"}]
    assert len(_items(client, conversation.id)) == 2


def test_conversation_with_previous_response_id_is_400(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    conversation = client.conversations.create()
    earlier = client.responses.create(model="openai/gpt-4o", input="hi")
    sent = len(upstream.requests)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model="openai/gpt-4o",
            input="x",
            conversation=conversation.id,
            previous_response_id=earlier.id,
        )
    assert caught.value.body["param"] == "conversation"
    assert caught.value.body["code"] == "mutually_exclusive_parameters"
    assert len(upstream.requests) == sent
    assert _items(client, conversation.id) == []


def test_unknown_conversation_is_404_before_any_upstream_call(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    sent = len(upstream.requests)
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="openai/gpt-4o", input="x", conversation="conv_nope")
    assert caught.value.body["param"] == "conversation"
    assert caught.value.body["message"] == "Conversation with id 'conv_nope' not found." + CONV_HINT
    assert len(upstream.requests) == sent


def test_reusing_an_item_id_of_the_conversation_is_400(client: openai.OpenAI) -> None:
    conversation = client.conversations.create(
        items=[{"id": "msg_taken", "role": "user", "content": "x"}]
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model="openai/gpt-4o",
            input=[{"id": "msg_taken", "type": "message", "role": "user", "content": "y"}],
            conversation=conversation.id,
        )
    assert caught.value.body["param"] == "input"
    assert len(_items(client, conversation.id)) == 1


def test_a_failed_response_appends_nothing(client: openai.OpenAI, upstream: MockUpstream) -> None:
    conversation = client.conversations.create(items=[{"role": "user", "content": "seed"}])
    upstream.queue(Reply(status=500, error_body={"error": {"message": "boom"}}))
    with pytest.raises(openai.APIError):
        client.responses.create(model="openai/gpt-4o", input="lost", conversation=conversation.id)
    upstream.queue(Reply(content=["partial"], break_after=2))
    stream = client.responses.create(
        model="openai/gpt-4o", input="lost too", conversation=conversation.id, stream=True
    )
    assert [event.type for event in stream][-1] == "response.failed"
    assert [_text(item) for item in _items(client, conversation.id)] == ["seed"]


def test_unstored_responses_still_join_the_conversation(client: openai.OpenAI) -> None:
    conversation = client.conversations.create()
    response = client.responses.create(
        model="openai/gpt-4o", input="ephemeral", conversation=conversation.id, store=False
    )
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    assert [item.id for item in _items(client, conversation.id)][1] == response.output[0].id


async def test_a_conversation_deleted_mid_turn_leaves_nothing_half_written(
    client: openai.OpenAI, upstream: MockUpstream, backend_server: str, storage_url: str
) -> None:
    conversation = client.conversations.create()
    upstream.queue(Reply(content=["slow", " answer"], delay=0.3))
    outcome: dict[str, Any] = {}

    def create() -> None:
        outcome["reply"] = httpx.post(
            f"{backend_server}/responses",
            json={"model": "openai/gpt-4o", "input": "x", "conversation": conversation.id},
            timeout=30,
        )

    sent = len(upstream.requests)
    worker = threading.Thread(target=create)
    worker.start()
    deadline = time.monotonic() + 10
    while len(upstream.requests) == sent and time.monotonic() < deadline:
        time.sleep(0.01)
    client.conversations.delete(conversation.id)
    worker.join(timeout=30)

    assert outcome["reply"].status_code == 404
    assert outcome["reply"].json()["error"]["param"] == "conversation"
    # The response was not stored either: one transaction, rolled back as a whole.
    store = await SqlStore.open(storage_url)
    try:
        stored = await store.runner.read(
            lambda connection: connection.scalar(
                select(func.count())
                .select_from(responses)
                .where(responses.c.body.contains(conversation.id))
            )
        )
    finally:
        await store.close()
    assert stored == 0


def test_a_conversation_deleted_mid_stream_ends_the_stream_with_response_failed(
    client: openai.OpenAI, upstream: MockUpstream, backend_server: str
) -> None:
    conversation = client.conversations.create()
    upstream.queue(Reply(content=["slow", " answer"], delay=0.3))
    outcome: dict[str, Any] = {}

    def create() -> None:
        outcome["events"] = stream_events(
            backend_server,
            {
                "model": "openai/gpt-4o",
                "input": "x",
                "conversation": conversation.id,
                "stream": True,
            },
        )

    sent = len(upstream.requests)
    worker = threading.Thread(target=create)
    worker.start()
    deadline = time.monotonic() + 10
    while len(upstream.requests) == sent and time.monotonic() < deadline:
        time.sleep(0.01)
    client.conversations.delete(conversation.id)
    worker.join(timeout=30)

    events = outcome["events"]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    last = events[-1]
    assert last["type"] == "response.failed"
    assert last["response"]["status"] == "failed"
    assert conversation.id in last["response"]["error"]["message"]
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(last["response"]["id"])

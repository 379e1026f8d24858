"""Failed, incomplete and cancelled turns, and ``store: false``, in a conversation, on
SQLite and PostgreSQL: each stored as it ended, and only a turn that ran to its end
(completed or incomplete) joins the conversation. Everything is read back through the
spec-checking client."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import openai
import pytest

from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"


def items_of(client: openai.OpenAI, conversation_id: str) -> list[dict[str, Any]]:
    page = client.conversations.items.list(conversation_id, order="asc", limit=100)
    return [item.model_dump(mode="json", exclude_none=True) for item in page.data]


def seeded_conversation(client: openai.OpenAI) -> tuple[str, list[dict[str, Any]]]:
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "earlier words"}]
    )
    return conversation.id, items_of(client, conversation.id)


def test_a_failed_turn_is_stored_failed_and_leaves_the_conversation_alone(
    client: openai.OpenAI, backend_server: str, upstream: MockUpstream
) -> None:
    conversation, before = seeded_conversation(client)
    upstream.queue(Reply(status=400, error_body={"error": {"message": "no such thing"}}))
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="fail please", conversation=conversation)
    # The SDK has no list call for responses; relaystack's GET /v1/responses lists them.
    listed = client.get("/responses", cast_to=httpx.Response, options={"params": {"limit": 1}})
    newest = client.responses.retrieve(listed.json()["data"][0]["id"])
    assert newest.status == "failed"
    assert newest.error is not None and "no such thing" in newest.error.message
    assert items_of(client, conversation) == before


def test_an_incomplete_turn_joins_the_conversation_as_incomplete(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    conversation, before = seeded_conversation(client)
    upstream.queue(Reply(content=["Once", " upon"], finish_reason="length"))
    response = client.responses.create(
        model=MODEL, input="a long story", conversation=conversation, max_output_tokens=16
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert client.responses.retrieve(response.id).status == "incomplete"
    added = items_of(client, conversation)[len(before) :]
    assert [item["role"] for item in added] == ["user", "assistant"]
    assert added[1]["status"] == "incomplete"
    assert added[1]["content"][0]["text"] == "Once upon"


def test_a_cancelled_turn_is_stored_cancelled_and_leaves_the_conversation_alone(
    client: openai.OpenAI, backend_server: str, upstream: MockUpstream
) -> None:
    conversation, before = seeded_conversation(client)
    upstream.queue(Reply(content=["slow", " words", " here", " now"], delay=0.3))
    body = {"model": MODEL, "input": "hang up", "conversation": conversation, "stream": True}
    url = httpx.URL(backend_server)
    payload = json.dumps(body).encode()
    with socket.create_connection((url.host, url.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
        )
        received = b""
        while b"response.output_text.delta" not in received:
            received += sock.recv(65536)
    response_id = received.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
    stored = None
    for _ in range(200):  # the save runs on after the client left
        try:
            stored = client.responses.retrieve(response_id)
            break
        except openai.NotFoundError:
            time.sleep(0.05)
    assert stored is not None, "the cancelled turn was never stored"
    assert stored.status == "cancelled"
    assert "slow" in stored.output_text and "now" not in stored.output_text
    assert items_of(client, conversation) == before
    assert upstream.stream_outcomes[-1:] == ["abandoned"]


def test_store_false_keeps_no_response_but_the_conversation_gets_the_turn(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    conversation, before = seeded_conversation(client)
    upstream.queue(Reply(content=["kept", " in", " the", " conversation"]))
    response = client.responses.create(
        model=MODEL, input="not stored", conversation=conversation, store=False
    )
    assert response.status == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    added = items_of(client, conversation)[len(before) :]
    assert [item["role"] for item in added] == ["user", "assistant"]
    assert added[1]["content"][0]["text"] == "kept in the conversation"

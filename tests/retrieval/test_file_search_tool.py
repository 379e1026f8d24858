"""The file_search tool over HTTP: the mock upstream asks for a search, then answers
citing a result; the vector store is searched for the caller only."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.retrieval.documents import DOCUMENTS
from tests.retrieval.test_vector_stores import create_and_poll
from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply

MODEL = "openai/gpt-4o"


def search_call(call_id: str, query: str) -> dict[str, Any]:
    return {"id": call_id, "name": "file_search", "arguments": json.dumps({"query": query})}


def chat_requests(upstream: MockUpstream) -> list[dict[str, Any]]:
    """The chat calls only (the mock also records the embedding calls of searches)."""
    return [body for body in upstream.requests if "messages" in body]


@pytest.fixture
def store(plain_alice: openai.OpenAI) -> tuple[str, str]:
    file_id = plain_alice.files.create(
        file=("volcanoes.txt", DOCUMENTS["volcanoes.txt"]), purpose="assistants"
    ).id
    other = plain_alice.files.create(
        file=("bread.md", DOCUMENTS["bread.md"]), purpose="assistants"
    ).id
    created = create_and_poll(plain_alice, file_ids=[file_id, other])
    assert created.file_counts.completed == 2
    return created.id, file_id


def create(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    response = client.responses.create(model=MODEL, input=body.pop("input", "hi"), **body)
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return data


def test_a_search_runs_and_the_answer_cites_the_file(
    plain_alice: openai.OpenAI, upstream: MockUpstream, store: tuple[str, str]
) -> None:
    store_id, file_id = store
    upstream.reset()
    upstream.queue(
        Reply(tool_calls=[search_call("call_1", "Etna volcanoes")]),
        Reply(content=["Etna is in Sicily [1]."]),
    )
    response = create(
        plain_alice,
        input="Where is Etna?",
        tools=[{"type": "file_search", "vector_store_ids": [store_id], "max_num_results": 2}],
        include=["file_search_call.results"],
    )
    call, answer = response["output"]
    assert call["type"] == "file_search_call" and call["status"] == "completed"
    assert call["queries"] == ["Etna volcanoes"] and call["id"] == "fs_call_1"
    assert 1 <= len(call["results"]) <= 2
    best = call["results"][0]
    assert (best["file_id"], best["filename"]) == (file_id, "volcanoes.txt")
    assert "Mount Etna" in best["text"] and 0 < best["score"] <= 1
    text = answer["content"][0]
    assert text["text"] == "Etna is in Sicily [1]."
    [citation] = text["annotations"]
    assert citation == {
        "type": "file_citation",
        "file_id": file_id,
        "filename": "volcanoes.txt",
        "index": text["text"].index("[1]"),
    }
    first, second = chat_requests(upstream)
    assert [tool["function"]["name"] for tool in first["tools"]] == ["file_search"]
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and "Mount Etna" in tool_message["content"]
    stored = plain_alice.responses.retrieve(response["id"]).model_dump(exclude_unset=True)
    assert stored["output"][0]["results"] == call["results"]


def test_results_show_only_when_include_asks(
    plain_alice: openai.OpenAI, upstream: MockUpstream, store: tuple[str, str]
) -> None:
    store_id, _file_id = store
    upstream.queue(Reply(tool_calls=[search_call("call_1", "bread")]), Reply(content=["ok"]))
    response = create(plain_alice, tools=[{"type": "file_search", "vector_store_ids": [store_id]}])
    call = response["output"][0]
    assert call["status"] == "completed" and call.get("results") is None


def test_the_stream_carries_the_file_search_events(
    plain_alice: openai.OpenAI, upstream: MockUpstream, store: tuple[str, str]
) -> None:
    store_id, _file_id = store
    upstream.queue(Reply(tool_calls=[search_call("call_1", "Etna")]), Reply(content=["ok [1]"]))
    stream = plain_alice.responses.create(
        model=MODEL,
        input="hi",
        stream=True,
        tools=[{"type": "file_search", "vector_store_ids": [store_id]}],
    )
    events = [event.model_dump(exclude_unset=True) for event in stream]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    types = [event["type"] for event in events]
    assert types[2:7] == [
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
    ]
    for event in events[2:7]:
        spec.assert_valid_event(event)
    assert types[-1] == "response.completed"
    done = next(e for e in events if e["type"] == "response.content_part.done")
    assert done["part"]["annotations"][0]["type"] == "file_citation"


def test_another_owners_store_fails_the_search_not_the_turn(
    plain_bob: openai.OpenAI, upstream: MockUpstream, store: tuple[str, str]
) -> None:
    store_id, _file_id = store
    upstream.queue(Reply(tool_calls=[search_call("call_1", "Etna")]), Reply(content=["no"]))
    response = create(plain_bob, tools=[{"type": "file_search", "vector_store_ids": [store_id]}])
    call = response["output"][0]
    assert call["status"] == "failed"
    tool_message = chat_requests(upstream)[1]["messages"][-1]
    assert "No vector store found" in tool_message["content"]
    assert "Mount Etna" not in tool_message["content"]


def test_a_bad_definition_is_a_400(plain_alice: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        plain_alice.responses.create(
            model=MODEL, input="hi", tools=[{"type": "file_search", "vector_store_ids": []}]
        )
    assert caught.value.body["param"].startswith("tools[0]")


# ----- input parts given by file_id ---------------------------------------------------


def test_input_file_and_image_by_file_id_reach_upstream_as_data(
    plain_alice: openai.OpenAI, plain_bob: openai.OpenAI, upstream: MockUpstream
) -> None:
    note = plain_alice.files.create(file=("note.txt", b"remember the milk"), purpose="user_data")
    pixel = plain_alice.files.create(file=("dot.png", b"\x89PNG\r\n\x1a\nfake"), purpose="vision")
    upstream.reset()
    upstream.queue(Reply(content=["ok"]))
    content = [
        {"type": "input_text", "text": "read these"},
        {"type": "input_file", "file_id": note.id},
        {"type": "input_image", "file_id": pixel.id},
    ]
    response = create(plain_alice, input=[{"role": "user", "content": content}])
    assert response["status"] == "completed"
    [chat] = chat_requests(upstream)
    parts = chat["messages"][-1]["content"]
    assert parts[1] == {
        "type": "file",
        "file": {
            "file_data": "data:text/plain;base64,cmVtZW1iZXIgdGhlIG1pbGs=",
            "filename": "note.txt",
        },
    }
    assert parts[2]["image_url"]["url"].startswith("data:image/png;base64,")
    with pytest.raises(openai.NotFoundError) as caught:
        plain_bob.responses.create(model=MODEL, input=[{"role": "user", "content": content[1:2]}])
    assert caught.value.body["param"] == "input[0]"


def test_with_the_embedded_embedding_model_meaning_finds_the_file(
    alice: openai.OpenAI, upstream: MockUpstream
) -> None:
    """No word of the query is in the PDF: only its embedding can find it."""
    ids = [
        alice.files.create(file=(name, DOCUMENTS[name]), purpose="assistants").id
        for name in ("bees.pdf", "volcanoes.txt")
    ]
    store = create_and_poll(alice, file_ids=ids)
    upstream.reset()
    upstream.queue(
        Reply(tool_calls=[search_call("call_1", "pollination by insects")]),
        Reply(content=["Bees do [1]."]),
    )
    response = create(
        alice,
        tools=[{"type": "file_search", "vector_store_ids": [store.id]}],
        include=["file_search_call.results"],
    )
    call, answer = response["output"]
    assert call["results"][0]["filename"] == "bees.pdf"
    assert answer["content"][0]["annotations"][0]["file_id"] == ids[0]


def test_a_conversation_item_given_by_file_id_is_read_when_a_turn_uses_it(
    plain_alice: openai.OpenAI, upstream: MockUpstream
) -> None:
    note = plain_alice.files.create(file=("memo.txt", b"meeting at noon"), purpose="user_data")
    part = {"type": "input_file", "file_id": note.id}
    conversation = plain_alice.conversations.create(items=[{"role": "user", "content": [part]}])
    upstream.reset()
    upstream.queue(Reply(content=["noon"]))
    create(plain_alice, input="when?", conversation=conversation.id)
    [chat] = chat_requests(upstream)
    sent = chat["messages"][0]["content"][0]["file"]
    assert sent == {
        "file_data": "data:text/plain;base64,bWVldGluZyBhdCBub29u",
        "filename": "memo.txt",
    }

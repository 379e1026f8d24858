"""``/v1/conversations`` over real HTTP with the openai SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import func, select

from relaystack.store.schema import conversation_items
from relaystack.store.sql import SqlStore
from tests.support.not_found import CONV_HINT, ITEM_HINT


def _user(text: str, item_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "message", "role": "user", "content": text}
    if item_id:
        item["id"] = item_id
    return item


def _texts(items: list[Any]) -> list[str]:
    return [item.content[0].text for item in items]


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_create_retrieve_update_delete(client: openai.OpenAI) -> None:
    created = client.conversations.create(metadata={"topic": "demo"})
    assert created.id.startswith("conv_")
    assert created.object == "conversation"
    assert isinstance(created.created_at, int)
    assert created.metadata == {"topic": "demo"}

    retrieved = client.conversations.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()

    updated = client.conversations.update(created.id, metadata={"topic": "new", "x": "1"})
    assert updated.metadata == {"topic": "new", "x": "1"}
    assert updated.created_at == created.created_at
    assert client.conversations.retrieve(created.id).metadata == {"topic": "new", "x": "1"}
    assert client.conversations.update(created.id, metadata=None).metadata == {}

    deleted = client.conversations.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (
        created.id,
        "conversation.deleted",
        True,
    )
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.conversations.delete(created.id)


def test_initial_items_keep_their_ids_and_order(client: openai.OpenAI) -> None:
    conversation = client.conversations.create(
        items=[
            _user("one", "msg_given_1"),
            {"role": "assistant", "content": "two"},
            _user("three"),
        ]
    )
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert _texts(items) == ["one", "two", "three"]
    assert items[0].id == "msg_given_1"
    assert all(item.id.startswith("msg_") and item.status == "completed" for item in items)
    assert items[1].role == "assistant"
    assert items[1].content[0].type == "output_text"
    # The documented default order is newest first.
    newest_first = client.conversations.items.list(conversation.id).data
    assert [item.id for item in newest_first] == [item.id for item in reversed(items)]


def test_append_items_retrieve_and_delete_one(client: openai.OpenAI) -> None:
    conversation = client.conversations.create(items=[_user("first")])
    added = client.conversations.items.create(
        conversation.id,
        items=[
            _user("second"),
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        ],
        include=["message.output_text.logprobs"],
    )
    assert added.object == "list"
    assert [item.type for item in added.data] == [
        "message",
        "function_call",
        "function_call_output",
    ]
    assert added.first_id == added.data[0].id
    assert added.last_id == added.data[-1].id
    assert added.has_more is False

    listed = client.conversations.items.list(conversation.id, order="asc").data
    assert [item.id for item in listed][1:] == [item.id for item in added.data]
    call = client.conversations.items.retrieve(added.data[1].id, conversation_id=conversation.id)
    assert (call.type, call.call_id, call.name) == ("function_call", "call_1", "f")

    after_delete = client.conversations.items.delete(
        added.data[0].id, conversation_id=conversation.id
    )
    assert after_delete.id == conversation.id
    assert after_delete.object == "conversation"
    remaining = client.conversations.items.list(conversation.id, order="asc").data
    assert [item.type for item in remaining] == ["message", "function_call", "function_call_output"]
    assert _texts(remaining[:1]) == ["first"]
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(added.data[0].id, conversation_id=conversation.id)
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.delete(added.data[0].id, conversation_id=conversation.id)


def test_listing_pages_with_after_limit_and_order(client: openai.OpenAI) -> None:
    conversation = client.conversations.create(items=[_user(f"m{i}") for i in range(7)])
    page = client.conversations.items.list(conversation.id, limit=3, order="asc")
    assert _texts(page.data) == ["m0", "m1", "m2"]
    assert page.has_more is True
    following = client.conversations.items.list(
        conversation.id, limit=3, order="asc", after=page.data[-1].id
    )
    assert _texts(following.data) == ["m3", "m4", "m5"]
    backwards = client.conversations.items.list(
        conversation.id, limit=10, order="desc", after=following.data[0].id
    )
    assert _texts(backwards.data) == ["m2", "m1", "m0"]
    assert backwards.has_more is False
    # The SDK's auto-pagination follows last_id through every page.
    every = list(client.conversations.items.list(conversation.id, limit=2, order="asc"))
    assert _texts(every) == [f"m{i}" for i in range(7)]


async def test_deleting_a_conversation_deletes_its_items(
    client: openai.OpenAI, storage_url: str
) -> None:
    conversation = client.conversations.create(items=[_user("a"), _user("b")])
    client.conversations.items.create(conversation.id, items=[_user("c")])
    client.conversations.delete(conversation.id)
    store = await SqlStore.open(storage_url)
    try:
        left = await store.runner.read(
            lambda connection: connection.scalar(
                select(func.count())
                .select_from(conversation_items)
                .where(conversation_items.c.conversation_id == conversation.id)
            )
        )
    finally:
        await store.close()
    assert left == 0
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.list(conversation.id)


def test_unknown_conversation_and_item_are_404_naming_the_parameter(
    client: openai.OpenAI, backend_server: str
) -> None:
    base = f"{backend_server}/conversations"
    with httpx.Client() as http:
        for method, path, body in [
            ("GET", "/conv_missing", None),
            ("POST", "/conv_missing", {"metadata": {}}),
            ("DELETE", "/conv_missing", None),
            ("GET", "/conv_missing/items", None),
            ("POST", "/conv_missing/items", {"items": [_user("x")]}),
            ("GET", "/conv_missing/items/msg_1", None),
            ("DELETE", "/conv_missing/items/msg_1", None),
        ]:
            error = _error(http.request(method, base + path, json=body), 404)
            assert error["param"] == "conversation_id", (method, path)
            assert error["message"] == "Conversation with id 'conv_missing' not found." + CONV_HINT
        conversation = client.conversations.create()
        for method in ("GET", "DELETE"):
            error = _error(http.request(method, f"{base}/{conversation.id}/items/msg_nope"), 404)
            assert error["param"] == "item_id"
            assert error["message"] == "Item with id 'msg_nope' not found." + ITEM_HINT


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("", {"items": [_user(str(i)) for i in range(21)]}, "items"),
        ("", {"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ("", {"metadata": {"k": "v" * 513}}, "metadata"),
        ("", {"metadata": "not an object"}, "metadata"),
        ("", {"items": [{"role": "robot", "content": "hi"}]}, "items[0].role"),
        ("", {"items": [{"type": "nonsense"}]}, "items[0].type"),
        ("", {"colour": "blue"}, "colour"),
        ("", {"items": [_user("a", "msg_same"), _user("b", "msg_same")]}, "items"),
        ("/{id}", {}, "metadata"),
        ("/{id}", {"metadata": {"k": 1}}, "metadata.k"),
        ("/{id}/items", {"items": []}, "items"),
        ("/{id}/items", {}, "items"),
        ("/{id}/items", {"items": [_user(str(i)) for i in range(21)]}, "items"),
        ("/{id}/items", {"items": [_user("again", "msg_seed")]}, "items"),
        ("/{id}/items?include[]=everything", {"items": [_user("x")]}, "include"),
    ],
)
def test_invalid_requests_are_400_naming_the_parameter(
    client: openai.OpenAI, backend_server: str, path: str, body: dict[str, Any], param: str
) -> None:
    conversation = client.conversations.create(items=[_user("seed", "msg_seed")])
    url = f"{backend_server}/conversations" + path.format(id=conversation.id)
    error = _error(httpx.post(url, json=body), 400)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    # Nothing was appended by a rejected request.
    assert len(client.conversations.items.list(conversation.id).data) == 1


def test_invalid_list_parameters_are_400(client: openai.OpenAI, backend_server: str) -> None:
    conversation = client.conversations.create()
    base = f"{backend_server}/conversations/{conversation.id}/items"
    assert _error(httpx.get(base, params={"limit": 0}), 400)["param"] == "limit"
    assert _error(httpx.get(base, params={"limit": 101}), 400)["param"] == "limit"
    assert _error(httpx.get(base, params={"order": "up"}), 400)["param"] == "order"
    assert _error(httpx.get(base, params={"include": "nope"}), 400)["param"] == "include"
    assert httpx.get(base, params={"include": "reasoning.encrypted_content"}).status_code == 200
    bad_json = httpx.post(
        f"{backend_server}/conversations",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert _error(bad_json, 400)["code"] == "invalid_json"

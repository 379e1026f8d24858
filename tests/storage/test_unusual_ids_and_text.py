"""Ids that could never be stored (too long for their column, or holding a NUL, which
PostgreSQL refuses in any string) and NUL characters in text: on both databases a bad
id in a body is a 400 before the upstream is called, one in a path or query finds
nothing like any missing id, and text with a NUL is stored and read back as sent."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.support.mock_upstream import MockUpstream
from tests.test_errors import assert_envelope

MODEL = "openai/gpt-4o"
LONG_ID = "msg_" + "a" * 100


def _message(**extra: Any) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": "hi", **extra}


def _call(**extra: Any) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": "call_1", "output": "42", **extra}


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"input": [_message(id=LONG_ID)]}, "input[0].id", "string_above_max_length"),
        ({"input": [_message(id="msg_\x00")]}, "input[0].id", "invalid_value"),
        ({"input": [_call(call_id="call_\x00")]}, "input[0].call_id", "invalid_value"),
        ({"input": [_call(call_id="c" * 300)]}, "input[0].call_id", "string_above_max_length"),
        ({"input": [{"type": "item_reference", "id": "x\x00"}]}, "input[0].id", "invalid_value"),
        ({"input": "hi", "previous_response_id": "resp_\x00"}, "previous_response_id", None),
        ({"input": "hi", "conversation": "conv_\x00"}, "conversation", None),
        ({"input": "hi", "conversation": {"id": "c" * 81}}, "conversation.id", None),
    ],
    ids=[
        "long item id",
        "NUL in item id",
        "NUL in call id",
        "long call id",
        "NUL in item reference",
        "NUL in previous_response_id",
        "NUL in conversation",
        "long conversation id",
    ],
)
def test_a_bad_id_in_a_response_body_is_a_400(
    backend_server: str, upstream: MockUpstream, body: dict[str, Any], param: str, code: str | None
) -> None:
    reply = httpx.post(f"{backend_server}/responses", json={"model": MODEL, **body})
    error = assert_envelope(reply, 400)
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    assert upstream.requests == []


def test_an_id_at_the_column_width_is_stored(backend_server: str) -> None:
    item_id = "msg_" + "b" * 76  # 80 characters
    reply = httpx.post(
        f"{backend_server}/responses", json={"model": MODEL, "input": [_message(id=item_id)]}
    )
    assert reply.status_code == 200, reply.text
    items = httpx.get(f"{backend_server}/responses/{reply.json()['id']}/input_items").json()
    assert items["data"][0]["id"] == item_id


@pytest.mark.parametrize("item_id", [LONG_ID, "msg_\x00"], ids=["long", "NUL"])
def test_a_bad_id_in_conversation_items_is_a_400(backend_server: str, item_id: str) -> None:
    body = {"items": [_message(id=item_id)]}
    assert assert_envelope(httpx.post(f"{backend_server}/conversations", json=body), 400)[
        "param"
    ] == ("items[0].id")
    created = httpx.post(f"{backend_server}/conversations").json()
    added = httpx.post(f"{backend_server}/conversations/{created['id']}/items", json=body)
    assert assert_envelope(added, 400)["param"] == "items[0].id"


@pytest.mark.parametrize("bad", ["resp_%00", "resp_" + "r" * 200], ids=["NUL", "long"])
def test_a_bad_response_id_in_a_path_is_the_usual_404(backend_server: str, bad: str) -> None:
    with httpx.Client(base_url=backend_server) as http:
        for method, path in [
            ("GET", f"/responses/{bad}"),
            ("DELETE", f"/responses/{bad}"),
            ("GET", f"/responses/{bad}/input_items"),
        ]:
            error = assert_envelope(http.request(method, path), 404)
            assert error["param"] == "response_id", (method, path)


def test_a_bad_cursor_or_filter_in_a_query_finds_nothing(
    backend_server: str, client: openai.OpenAI
) -> None:
    stored = client.responses.create(model=MODEL, input="listed")
    with httpx.Client(base_url=backend_server) as http:
        for path, params in [
            ("/responses", {"after": "\x00"}),
            ("/responses", {"after": "resp_" + "r" * 200}),
            ("/responses", {"model": "openai/gpt-4o\x00"}),
            (f"/responses/{stored.id}/input_items", {"after": "\x00"}),
            (f"/responses/{stored.id}/input_items", {"before": "msg_\x00"}),
        ]:
            reply = http.get(path, params=params)
            assert reply.status_code == 200, (path, params, reply.text)
            assert reply.json()["data"] == [], (path, params)


def test_bad_conversation_and_item_ids_in_paths_are_the_usual_404(backend_server: str) -> None:
    conversation = httpx.post(
        f"{backend_server}/conversations", json={"items": [_message()]}
    ).json()
    with httpx.Client(base_url=backend_server) as http:
        for method, path in [
            ("GET", "/conversations/conv_%00"),
            ("POST", "/conversations/conv_%00"),
            ("DELETE", "/conversations/conv_%00"),
            ("GET", "/conversations/conv_%00/items"),
            ("POST", "/conversations/conv_%00/items"),
            ("GET", f"/conversations/{conversation['id']}/items/msg_%00"),
            ("DELETE", f"/conversations/{conversation['id']}/items/{LONG_ID}"),
        ]:
            body = {"metadata": {}} if path.endswith("%00") and method == "POST" else None
            if path.endswith("/items") and method == "POST":
                body = {"items": [_message()]}
            reply = http.request(method, path, json=body)
            assert_envelope(reply, 404)
        listed = http.get(f"/conversations/{conversation['id']}/items", params={"after": "\x00"})
    assert listed.status_code == 200 and listed.json()["data"] == []


def test_nul_characters_in_text_and_metadata_are_kept(
    backend_server: str, client: openai.OpenAI
) -> None:
    text = "before\x00after"
    response = client.responses.create(
        model=MODEL, input=text, metadata={"note": "a\x00b"}, instructions="be\x00kind"
    )
    assert response.status == "completed"
    fetched = client.responses.retrieve(response.id)
    assert fetched.metadata == {"note": "a\x00b"}
    assert fetched.instructions == "be\x00kind"
    assert fetched.output_text == f"echo: {text}"
    items = client.responses.input_items.list(response.id)
    assert items.data[0].content[0].text == text  # type: ignore[union-attr]
    conversation = client.conversations.create(
        metadata={"note": "x\x00y"}, items=[{"type": "message", "role": "user", "content": text}]
    )
    assert client.conversations.retrieve(conversation.id).metadata == {"note": "x\x00y"}
    listed = client.conversations.items.list(conversation.id)
    assert listed.data[0].content[0].text == text  # type: ignore[union-attr]

"""Two API keys, two owners: each sees only their own objects; someone else's id is a
404 worded exactly like a missing one. No key or a wrong key is a 401."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from tests.storage.conftest import ALICE_KEY
from tests.support.not_found import CONV_HINT, RESP_HINT


def _not_found(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(openai.NotFoundError) as caught:
        call()
    return caught.value.body


def _listed_response_ids(client: openai.OpenAI) -> list[str]:
    # The SDK has no responses.list; the endpoint is OpenAI's GET /v1/responses.
    reply = httpx.get(
        f"{client.base_url}responses",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {client.api_key}"},
    )
    assert reply.status_code == 200, reply.text
    return [response["id"] for response in reply.json()["data"]]


def _owned_objects(client: openai.OpenAI, tag: str) -> dict[str, str]:
    response = client.responses.create(model="openai/gpt-4o", input=f"{tag} private")
    conversation = client.conversations.create(
        items=[{"role": "user", "content": f"{tag} secret"}], metadata={"owner": tag}
    )
    item_id = client.conversations.items.list(conversation.id).data[0].id
    return {"response": response.id, "conversation": conversation.id, "item": item_id}


def _assert_invisible(other: openai.OpenAI, objects: dict[str, str]) -> None:
    response_id, conversation_id, item_id = (
        objects["response"],
        objects["conversation"],
        objects["item"],
    )
    # Worded exactly as for an id that never existed.
    assert _not_found(lambda: other.responses.retrieve(response_id)) == _not_found(
        lambda: other.responses.retrieve("resp_" + "0" * 48)
    ) | {"message": f"Response with id '{response_id}' not found." + RESP_HINT}
    _not_found(lambda: other.responses.input_items.list(response_id))
    _not_found(lambda: other.responses.delete(response_id))
    chained = _not_found(
        lambda: other.responses.create(
            model="openai/gpt-4o", input="steal", previous_response_id=response_id
        )
    )
    assert chained["param"] == "previous_response_id"
    assert response_id not in _listed_response_ids(other)

    missing = _not_found(lambda: other.conversations.retrieve("conv_" + "0" * 48))
    assert _not_found(lambda: other.conversations.retrieve(conversation_id)) == missing | {
        "message": f"Conversation with id '{conversation_id}' not found." + CONV_HINT
    }
    _not_found(lambda: other.conversations.update(conversation_id, metadata={"x": "y"}))
    _not_found(lambda: other.conversations.items.list(conversation_id))
    _not_found(
        lambda: other.conversations.items.create(
            conversation_id, items=[{"role": "user", "content": "inject"}]
        )
    )
    _not_found(lambda: other.conversations.items.retrieve(item_id, conversation_id=conversation_id))
    _not_found(lambda: other.conversations.items.delete(item_id, conversation_id=conversation_id))
    appended = _not_found(
        lambda: other.responses.create(
            model="openai/gpt-4o", input="inject", conversation=conversation_id
        )
    )
    assert appended["param"] == "conversation"
    # Nor can an item_reference reach into another owner's items.
    referenced = _not_found(
        lambda: other.responses.create(
            model="openai/gpt-4o", input=[{"type": "item_reference", "id": item_id}]
        )
    )
    assert referenced["param"] == "input"
    _not_found(lambda: other.conversations.delete(conversation_id))


def _assert_untouched(owner: openai.OpenAI, objects: dict[str, str], tag: str) -> None:
    assert owner.responses.retrieve(objects["response"]).output_text == f"echo: {tag} private"
    conversation = owner.conversations.retrieve(objects["conversation"])
    assert conversation.metadata == {"owner": tag}
    items = owner.conversations.items.list(objects["conversation"]).data
    assert [item.content[0].text for item in items] == [f"{tag} secret"]


def test_owners_cannot_reach_each_others_objects(alice: openai.OpenAI, bob: openai.OpenAI) -> None:
    alices = _owned_objects(alice, "alice")
    bobs = _owned_objects(bob, "bob")
    _assert_invisible(bob, alices)
    _assert_invisible(alice, bobs)
    _assert_untouched(alice, alices, "alice")
    _assert_untouched(bob, bobs, "bob")
    # And each still reaches their own: chain, append, then delete.
    chained = alice.responses.create(
        model="openai/gpt-4o", input="mine", previous_response_id=alices["response"]
    )
    assert chained.previous_response_id == alices["response"]
    bob.responses.create(model="openai/gpt-4o", input="mine", conversation=bobs["conversation"])
    assert len(bob.conversations.items.list(bobs["conversation"]).data) == 3
    alice.responses.delete(alices["response"])  # the SDK returns None on success
    _not_found(lambda: alice.responses.retrieve(alices["response"]))
    assert bob.conversations.delete(bobs["conversation"]).deleted is True


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": ALICE_KEY}],
    ids=["no key", "wrong key", "not bearer"],
)
def test_requests_without_a_valid_key_are_401(auth_server: str, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=auth_server, headers=headers) as http:
        for method, path in [
            ("GET", "/responses"),
            ("POST", "/responses"),
            ("GET", "/responses/resp_1"),
            ("POST", "/conversations"),
            ("GET", "/conversations/conv_1"),
            ("GET", "/conversations/conv_1/items"),
            ("DELETE", "/conversations/conv_1/items/msg_1"),
            ("GET", "/models"),
        ]:
            reply = http.request(method, path, json={} if method == "POST" else None)
            assert reply.status_code == 401, (method, path, reply.text)
            error = reply.json()["error"]
            assert error["code"] == "invalid_api_key"
            assert set(error) == {"message", "type", "param", "code"}
        # The health check stays open for load balancers.
        assert http.get("/health").status_code == 200


def test_the_sdk_sees_a_wrong_key_as_an_authentication_error(auth_server: str) -> None:
    stranger = openai.OpenAI(base_url=auth_server, api_key="sk-stranger", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.conversations.create()

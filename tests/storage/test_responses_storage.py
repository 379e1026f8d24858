"""Stored responses on each backend: retrieve, chain, list, input items, delete."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.support.mock_upstream import MockUpstream


def test_store_retrieve_chain_list_and_delete(
    client: openai.OpenAI, upstream: MockUpstream, backend_server: str
) -> None:
    first = client.responses.create(model="openai/gpt-4o", input="one", metadata={"k": "v"})
    second = client.responses.create(
        model="openai/gpt-4o", input="two", previous_response_id=first.id
    )
    third = client.responses.create(
        model="openai/mock-model", input="three", previous_response_id=second.id
    )
    # The whole chain went upstream, oldest first.
    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "one",
        "echo: one",
        "two",
        "echo: two",
        "three",
    ]
    retrieved = client.responses.retrieve(first.id)
    assert retrieved.model_dump() == first.model_dump()
    # A response's input items are its own input, not the chain's.
    third_inputs = client.responses.input_items.list(third.id).data
    assert [item.content[0].text for item in third_inputs] == ["three"]

    listed = httpx.get(f"{backend_server}/responses", params={"limit": 2, "order": "desc"}).json()
    assert [r["id"] for r in listed["data"]] == [third.id, second.id]
    assert listed["has_more"] is True
    following = httpx.get(
        f"{backend_server}/responses",
        params={"limit": 2, "order": "desc", "after": second.id},
    ).json()
    assert following["data"][0]["id"] == first.id
    by_model = httpx.get(
        f"{backend_server}/responses", params={"model": "openai/mock-model", "limit": 100}
    ).json()
    assert third.id in [r["id"] for r in by_model["data"]]
    assert first.id not in [r["id"] for r in by_model["data"]]

    client.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(second.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(second.id)
    assert client.responses.retrieve(third.id).previous_response_id == second.id


def test_input_items_page_in_both_orders(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="openai/gpt-4o",
        input=[{"role": "user", "content": f"part {i}"} for i in range(5)],
    )
    asc = client.responses.input_items.list(response.id, order="asc", limit=2)
    assert [item.content[0].text for item in asc.data] == ["part 0", "part 1"]
    assert asc.has_more is True
    rest = list(client.responses.input_items.list(response.id, order="asc", limit=2))
    assert [item.content[0].text for item in rest] == [f"part {i}" for i in range(5)]
    desc = client.responses.input_items.list(response.id, limit=100)
    assert [item.content[0].text for item in desc.data] == [f"part {i}" for i in range(4, -1, -1)]

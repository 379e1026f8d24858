"""Stored responses: store=false, delete, input_items and list pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from relaystack.app import build_app
from tests.storage.conftest import BACKENDS, require_postgres
from tests.support import postgres
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.spec_transport import spec_checked_client
from tests.support.sse import stream_events
from tests.support.stack import stack_config

MODEL = "openai/gpt-4o"


def http(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30)


@pytest.fixture(scope="module", params=BACKENDS)
def own_server(
    request: pytest.FixtureRequest, upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A server with an empty database of its own, so listings can be exact."""
    database = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('listing') / 'relaystack.db'}"
    else:
        require_postgres()
        database = postgres.create_database()
        url = postgres.storage_url(database)
    with ServerThread(build_app(stack_config(upstream.base_url, url))) as thread:
        yield f"{thread.url}/v1"
    if database is not None:
        postgres.drop_database(database)


@pytest.fixture
def own_client(own_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=own_server, api_key="sk-unused", max_retries=0, http_client=spec_checked_client()
    )


def list_ids(base_url: str, **params: Any) -> dict[str, Any]:
    with http(base_url) as client:
        response = client.get("/responses", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# ----- store=false ---------------------------------------------------------------


def test_store_false_is_not_retrievable_nor_chainable(
    client: openai.OpenAI, backend_server: str, upstream: MockUpstream
) -> None:
    response = client.responses.create(model=MODEL, input="Forget me", store=False)
    assert response.store is False
    assert response.status == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(response.id)
    upstream.reset()
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=MODEL, input="Next", previous_response_id=response.id)
    assert caught.value.param == "previous_response_id"
    assert upstream.requests == []
    assert response.id not in [r["id"] for r in list_ids(backend_server, limit=100)["data"]]


def test_streamed_store_false_is_not_retrievable(backend_server: str) -> None:
    events = stream_events(
        backend_server, {"model": MODEL, "input": "Stream and forget", "store": False}
    )
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["store"] is False
    with http(backend_server) as client:
        assert client.get(f"/responses/{final['id']}").status_code == 404


def test_store_defaults_to_true(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="Keep me")
    assert response.store is True
    assert client.responses.retrieve(response.id).output_text == response.output_text


# ----- retrieve and delete -------------------------------------------------------


def test_retrieve_returns_what_create_returned(client: openai.OpenAI, backend_server: str) -> None:
    with http(backend_server) as raw:
        created = raw.post(
            "/responses", json={"model": MODEL, "input": "Same?", "metadata": {"x": "y"}}
        ).json()
        fetched = raw.get(f"/responses/{created['id']}").json()
    assert fetched == created


def test_delete_then_everything_is_404(
    client: openai.OpenAI, backend_server: str, upstream: MockUpstream
) -> None:
    response = client.responses.create(model=MODEL, input="Delete me")
    with http(backend_server) as raw:
        deleted = raw.delete(f"/responses/{response.id}")
        assert deleted.status_code == 200
        assert deleted.json() == {"id": response.id, "object": "response.deleted", "deleted": True}
        assert raw.get(f"/responses/{response.id}").status_code == 404
        assert raw.get(f"/responses/{response.id}/input_items").status_code == 404
        assert raw.delete(f"/responses/{response.id}").status_code == 404
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="Again", previous_response_id=response.id)
    assert response.id not in [r["id"] for r in list_ids(backend_server, limit=100)["data"]]


def test_sdk_delete_works(client: openai.OpenAI) -> None:
    response = client.responses.create(model=MODEL, input="SDK delete")
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


# ----- input items ---------------------------------------------------------------


def make_five_inputs(client: openai.OpenAI) -> tuple[str, list[str]]:
    """A response with five input items; returns its id and the item ids in input order."""
    response = client.responses.create(
        model=MODEL,
        input=[{"role": "user", "content": f"message {n}"} for n in range(5)],
    )
    items = client.responses.input_items.list(response.id, order="asc", limit=100).data
    return response.id, [item.id for item in items]


def texts(page_data: list[Any]) -> list[str]:
    return [item.content[0].text for item in page_data]


def test_input_items_default_to_descending_order(client: openai.OpenAI) -> None:
    response_id, ids = make_five_inputs(client)
    assert len(set(ids)) == 5
    page = client.responses.input_items.list(response_id)
    assert [item.id for item in page.data] == list(reversed(ids))
    assert texts(page.data) == [f"message {n}" for n in (4, 3, 2, 1, 0)]
    assert page.has_more is False
    assert page.first_id == ids[-1]
    assert page.last_id == ids[0]
    for item in page.data:
        assert item.type == "message"
        assert item.role == "user"
        assert item.status == "completed"


def test_input_items_limit_and_after(client: openai.OpenAI) -> None:
    response_id, ids = make_five_inputs(client)
    first = client.responses.input_items.list(response_id, limit=2, order="asc")
    assert [item.id for item in first.data] == ids[:2]
    assert first.has_more is True
    second = client.responses.input_items.list(
        response_id, limit=2, order="asc", after=first.data[-1].id
    )
    assert [item.id for item in second.data] == ids[2:4]
    assert second.has_more is True
    third = client.responses.input_items.list(
        response_id, limit=2, order="asc", after=second.data[-1].id
    )
    assert [item.id for item in third.data] == ids[4:]
    assert third.has_more is False

    descending = client.responses.input_items.list(response_id, limit=2, after=ids[3])
    assert [item.id for item in descending.data] == [ids[2], ids[1]]
    assert descending.has_more is True


def test_sdk_auto_pagination_walks_every_input_item(client: openai.OpenAI) -> None:
    response_id, ids = make_five_inputs(client)
    walked = [item.id for item in client.responses.input_items.list(response_id, limit=2)]
    assert walked == list(reversed(ids))


def test_input_items_before(backend_server: str, client: openai.OpenAI) -> None:
    response_id, ids = make_five_inputs(client)
    with http(backend_server) as raw:
        asc = raw.get(
            f"/responses/{response_id}/input_items", params={"order": "asc", "before": ids[3]}
        ).json()
        desc = raw.get(
            f"/responses/{response_id}/input_items", params={"order": "desc", "before": ids[1]}
        ).json()
    assert [item["id"] for item in asc["data"]] == ids[:3]
    assert [item["id"] for item in desc["data"]] == [ids[4], ids[3], ids[2]]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"order": "sideways"}, "order"),
    ],
)
def test_input_items_bad_query_is_400(
    client: openai.OpenAI, backend_server: str, params: dict[str, Any], param: str
) -> None:
    response_id, _ = make_five_inputs(client)
    with http(backend_server) as raw:
        answer = raw.get(f"/responses/{response_id}/input_items", params=params)
        listing = raw.get("/responses", params=params)
    for response in (answer, listing):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == param
        assert error["type"] == "invalid_request_error"


def test_input_items_limit_bounds_are_inclusive(client: openai.OpenAI) -> None:
    response_id, _ = make_five_inputs(client)
    assert len(client.responses.input_items.list(response_id, limit=1).data) == 1
    assert len(client.responses.input_items.list(response_id, limit=100).data) == 5


def test_input_items_of_a_chained_response_are_its_own_input(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="first input")
    second = client.responses.create(
        model=MODEL, input="second input", previous_response_id=first.id
    )
    items = client.responses.input_items.list(second.id).data
    assert texts(items) == ["second input"]


# ----- listing responses (own database) ------------------------------------------


def test_list_responses_orders_pages_and_filters(
    own_client: openai.OpenAI, own_server: str, upstream: MockUpstream
) -> None:
    created = [
        own_client.responses.create(model="openai/mock-model", input=f"mock {n}").id
        for n in range(3)
    ]
    other = own_client.responses.create(model=MODEL, input="gpt").id

    everything = list_ids(own_server, limit=100)
    assert [r["id"] for r in everything["data"]] == [other, *reversed(created)]
    assert everything["object"] == "list"
    assert everything["has_more"] is False
    assert everything["first_id"] == other
    assert everything["last_id"] == created[0]

    ascending = list_ids(own_server, order="asc", limit=100)
    assert [r["id"] for r in ascending["data"]] == [*created, other]

    page = list_ids(own_server, limit=2)
    assert [r["id"] for r in page["data"]] == [other, created[2]]
    assert page["has_more"] is True
    rest = list_ids(own_server, limit=2, after=page["last_id"])
    assert [r["id"] for r in rest["data"]] == [created[1], created[0]]
    assert rest["has_more"] is False

    asc_after = list_ids(own_server, order="asc", after=created[0], limit=2)
    assert [r["id"] for r in asc_after["data"]] == [created[1], created[2]]
    assert asc_after["has_more"] is True

    mocks = list_ids(own_server, model="openai/mock-model", limit=100)
    assert [r["id"] for r in mocks["data"]] == list(reversed(created))
    assert {r["model"] for r in mocks["data"]} == {"openai/mock-model"}
    assert list_ids(own_server, model="openai/unknown")["data"] == []


def test_listed_responses_carry_their_output(
    own_client: openai.OpenAI, own_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["Listed", " output"]))
    response = own_client.responses.create(model=MODEL, input="list me")
    newest = list_ids(own_server, limit=1)["data"][0]
    assert newest["id"] == response.id
    assert newest["status"] == "completed"
    assert newest["output"][0]["content"][0]["text"] == "Listed output"


def test_empty_list_envelope(own_server: str) -> None:
    empty = list_ids(own_server, model="openai/nothing-here")
    assert empty == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_input_items_default_limit_is_20(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input=[{"role": "user", "content": f"line {n}"} for n in range(25)]
    )
    page = client.responses.input_items.list(response.id)
    assert len(page.data) == 20
    assert page.has_more is True
    assert texts(page.data)[0] == "line 24"

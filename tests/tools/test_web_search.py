"""The web_search tool over HTTP: the SearXNG loopback server as backend, the mock
upstream calling the tool then answering, the openai SDK as client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.search_servers import MockSearxng
from tests.support.servers import ServerThread
from tests.support.spec_transport import spec_checked_client
from tests.support.sse import stream_events
from tests.support.stack import stack_config

MODEL = "openai/gpt-4o"
NASA = "https://science.nasa.gov/saturn/rings/"


def search_call(call_id: str, query: str) -> dict[str, Any]:
    return {"id": call_id, "name": "web_search", "arguments": json.dumps({"query": query})}


def searxng_tools(searxng: MockSearxng) -> dict[str, Any]:
    return {"web_search": {"backend": {"type": "searxng", "base_url": searxng.url}}}


@pytest.fixture
def search_server(
    upstream: MockUpstream,
    searxng: MockSearxng,
    tmp_path: Path,
) -> Iterator[str]:
    config = server_config(upstream.base_url, tmp_path / "db", tools=searxng_tools(searxng))
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture
def search_client(search_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=search_server,
        api_key="sk-unused",
        max_retries=0,
        http_client=spec_checked_client(),
    )


def create(client: openai.OpenAI, **body: Any) -> dict[str, Any]:
    response = client.responses.create(model=MODEL, input=body.pop("input", "hi"), **body)
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return data


def test_a_search_runs_and_the_answer_cites_its_sources(
    search_client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(
        Reply(tool_calls=[search_call("call_1", "saturn rings")]),
        Reply(content=["Ice and rock [1]."]),
    )
    response = create(
        search_client,
        input="What are Saturn's rings made of?",
        tools=[{"type": "web_search"}],
        include=["web_search_call.action.sources"],
    )
    call, answer = response["output"]
    assert call["type"] == "web_search_call" and call["status"] == "completed"
    assert call["action"]["type"] == "search" and call["action"]["query"] == "saturn rings"
    assert {"type": "url", "url": NASA} in call["action"]["sources"]
    text = answer["content"][0]
    assert text["text"] == "Ice and rock [1]."
    [citation] = text["annotations"]
    assert citation["type"] == "url_citation"
    assert text["text"][citation["start_index"] : citation["end_index"]] == "[1]"
    assert citation["url"] == call["action"]["sources"][0]["url"]
    first, second = upstream.requests
    assert [tool["function"]["name"] for tool in first["tools"]] == ["web_search"]
    tool_message = second["messages"][2]
    assert tool_message["role"] == "tool" and NASA in tool_message["content"]


def test_sources_show_only_when_include_asks_for_them(
    search_client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(tool_calls=[search_call("call_1", "saturn")]), Reply(content=["ok"]))
    response = create(search_client, tools=[{"type": "web_search_preview"}])
    assert response["output"][0]["action"] == {"type": "search", "query": "saturn"}


def test_the_stream_carries_the_web_search_events(
    search_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(tool_calls=[search_call("call_1", "saturn")]), Reply(content=["ok [1]"]))
    body = {"model": MODEL, "input": "hi", "stream": True, "tools": [{"type": "web_search"}]}
    events = stream_events(search_server, body)
    spec.check_stream_contract(events)
    types = [event["type"] for event in events]
    assert types[2:7] == [
        "response.output_item.added",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
        "response.output_item.done",
    ]
    done = next(e for e in events if e["type"] == "response.content_part.done")
    assert done["part"]["annotations"][0]["type"] == "url_citation"


def test_tool_choice_forces_the_search_on_the_first_call_only(
    search_client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(tool_calls=[search_call("call_1", "saturn")]), Reply(content=["ok"]))
    create(search_client, tools=[{"type": "web_search"}], tool_choice={"type": "web_search"})
    first, second = upstream.requests
    assert first["tool_choice"] == {"type": "function", "function": {"name": "web_search"}}
    assert second["tool_choice"] == "auto"


def test_allowed_tools_can_name_web_search_beside_a_function(
    search_client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["ok"]))
    function = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    choice = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "web_search"}]}
    create(search_client, tools=[{"type": "web_search"}, function], tool_choice=choice)
    [first] = upstream.requests
    assert [tool["function"]["name"] for tool in first["tools"]] == ["web_search"]
    assert first["tool_choice"] == "required"


def test_without_a_backend_web_search_is_a_400_naming_the_tool(client: openai.OpenAI) -> None:
    function = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="hi", tools=[function, {"type": "web_search"}])
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "tools[1]" and error["code"] == "web_search_not_configured"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("web_search", "web_search_preview"),
        ("web_search_preview_2025_03_11", "web_search"),
        ("web_search", "web_search"),
    ],
)
def test_the_search_tool_given_twice_under_any_names_is_a_400_naming_the_second(
    search_client: openai.OpenAI, upstream: MockUpstream, first: str, second: str
) -> None:
    function = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    with pytest.raises(openai.BadRequestError) as caught:
        search_client.responses.create(
            model=MODEL,
            input="hi",
            tools=[{"type": first}, function, {"type": second}],  # type: ignore[list-item]
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == "tools[2]" and error["code"] == "invalid_value"
    assert "tools[0] and tools[2]" in error["message"]
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"search_context_size": "huge"}, "tools[1].search_context_size"),
        ({"user_location": {"type": "approximate", "country": "USA"}}, "tools[1].user_location"),
        ({"filters": {"allowed_domains": "nasa.gov"}}, "tools[1].filters.allowed_domains"),
        ({"external_web_access": "sometimes"}, "tools[1].external_web_access"),
        ({"safe_search": True}, "tools[1].safe_search"),
    ],
)
def test_bad_search_definitions_are_400s_naming_the_field(
    search_client: openai.OpenAI, extra: dict[str, Any], param: str
) -> None:
    function = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    with pytest.raises(openai.BadRequestError) as caught:
        search_client.responses.create(
            model=MODEL,
            input="hi",
            tools=[function, {"type": "web_search", **extra}],  # type: ignore[list-item]
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"].startswith(param), error


def test_no_external_access_answers_from_earlier_results_offline(
    search_client: openai.OpenAI,
    upstream: MockUpstream,
    searxng: MockSearxng,
) -> None:
    upstream.queue(Reply(tool_calls=[search_call("c1", "saturn rings")]), Reply(content=["a"]))
    create(search_client, tools=[{"type": "web_search"}])
    asked = len(searxng.requests)
    upstream.queue(Reply(tool_calls=[search_call("c2", "saturn rings")]), Reply(content=["b"]))
    offline = {"type": "web_search", "external_web_access": False}
    response = create(search_client, tools=[offline], include=["web_search_call.action.sources"])
    assert len(searxng.requests) == asked  # the network was not used
    assert {"type": "url", "url": NASA} in response["output"][0]["action"]["sources"]


def test_a_chained_turn_on_postgres_sees_the_search_in_its_chat_form(
    upstream: MockUpstream,
    searxng: MockSearxng,
    postgres_url: str,
) -> None:
    config = stack_config(upstream.base_url, postgres_url, tools=searxng_tools(searxng))
    with ServerThread(build_app(config)) as thread:
        client = openai.OpenAI(base_url=f"{thread.url}/v1", api_key="k", max_retries=0)
        upstream.queue(Reply(tool_calls=[search_call("c1", "saturn")]), Reply(content=["x [1]"]))
        first = create(client, tools=[{"type": "web_search"}], store=True)
        upstream.queue(Reply(content=["again"]))
        create(client, input="more?", previous_response_id=first["id"])
    messages = upstream.requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "user"]
    call = messages[1]["tool_calls"][0]
    assert call["id"] == first["output"][0]["id"] == messages[2]["tool_call_id"]
    assert json.loads(call["function"]["arguments"]) == {"query": "saturn"}
    assert NASA in messages[2]["content"]
    assert messages[3]["content"] == "x [1]"

"""Every failure leaves as OpenAI's error envelope with the right status, and the store
keeps a failed response where one was created and nothing where none was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support.mock_upstream import MockUpstream, Reply, every_attempt
from tests.support.servers import ServerThread, free_port
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"


# ----- helpers -------------------------------------------------------------------


def assert_envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    """The body is exactly ``{"error": {message, type, param, code}}``; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert {"message", "type", "param", "code"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    return error


def http(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30)


def newest_response(base_url: str) -> dict[str, Any] | None:
    with http(base_url) as client:
        page = client.get("/responses", params={"limit": 1, "order": "desc"})
    assert page.status_code == 200, page.text
    data = page.json()["data"]
    return data[0] if data else None


def newest_id(base_url: str) -> str | None:
    newest = newest_response(base_url)
    return newest["id"] if newest else None


def assert_new_failed_response(base_url: str, before: str | None, prompt: str) -> dict[str, Any]:
    """A new stored response exists, says ``failed`` with an error, and kept its input."""
    stored = newest_response(base_url)
    assert stored is not None and stored["id"] != before, "no response was stored"
    assert stored["status"] == "failed"
    assert stored["error"]["code"] and stored["error"]["message"]
    with http(base_url) as client:
        items = client.get(f"/responses/{stored['id']}/input_items")
        fetched = client.get(f"/responses/{stored['id']}")
    assert items.status_code == 200
    assert [part["text"] for item in items.json()["data"] for part in item["content"]] == [prompt]
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "failed"
    return stored


@pytest.fixture(scope="module")
def edge_server(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with one provider per failure: a slow one (0.5 s timeout) and a dead one."""
    closed_port = free_port()  # nothing listens here
    database = tmp_path_factory.mktemp("edge") / "relaystack.db"
    config = server_config(
        upstream.base_url,
        database,
        providers=[
            {
                "id": "openai",
                "type": "openai-compatible",
                "base_url": upstream.base_url,
                "api_key": "sk-test",
                "models": ["gpt-4o"],
            },
            {
                "id": "slow",
                "type": "openai-compatible",
                "base_url": upstream.base_url,
                "api_key": "sk-test",
                "models": ["gpt-4o"],
                "timeout": 0.5,
            },
            {
                "id": "dead",
                "type": "openai-compatible",
                "base_url": f"http://127.0.0.1:{closed_port}/v1",
                "api_key": "sk-test",
                "models": ["gpt-4o"],
                "connect_timeout": 5,
            },
        ],
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture(scope="module")
def small_server(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("small") / "relaystack.db"
    config = server_config(upstream.base_url, database, server={"max_body_bytes": 1000})
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


# ----- unknown model -------------------------------------------------------------


def test_unknown_model_is_404_model_not_found(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    before = newest_id(server)
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="openai/no-such-model", input="hi")
    error = assert_envelope(caught.value.response, 404)
    assert error["code"] == "model_not_found"
    assert error["param"] == "model"
    assert "openai/no-such-model" in error["message"]
    assert upstream.requests == []
    assert newest_id(server) == before


# ----- invalid requests ----------------------------------------------------------

FUNCTION_TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}

INVALID_REQUESTS = {
    "unknown parameter": ({"input": "hi", "temprature": 0.5}, "temprature"),
    "temperature of the wrong type": ({"input": "hi", "temperature": "hot"}, "temperature"),
    "temperature out of range": ({"input": "hi", "temperature": 3}, "temperature"),
    "top_p out of range": ({"input": "hi", "top_p": 1.5}, "top_p"),
    "stream of the wrong type": ({"input": "hi", "stream": 5}, "stream"),
    "input of the wrong type": ({"input": 42}, "input"),
    "unknown tool type": ({"input": "hi", "tools": [{"type": "teleporter"}]}, "tools[0].type"),
    "function tool without a name": ({"input": "hi", "tools": [{"type": "function"}]}, "tools"),
    "unknown input item type": ({"input": [{"type": "hologram"}]}, "input[0].type"),
    "input message with a bad role": (
        {"input": [{"type": "message", "role": "robot", "content": "beep"}]},
        "input[0].role",
    ),
    "input message without content": (
        {"input": [{"type": "message", "role": "user"}]},
        "input[0].content",
    ),
    "unknown content part": (
        {"input": [{"role": "user", "content": [{"type": "input_hologram", "text": "x"}]}]},
        "input[0].content[0].type",
    ),
    "function_call_output without call_id": (
        {"input": [{"type": "function_call_output", "output": "x"}]},
        "input[0].call_id",
    ),
    "max_output_tokens of zero": ({"input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
    "max_output_tokens under 16": ({"input": "hi", "max_output_tokens": 15}, "max_output_tokens"),
    "negative max_output_tokens": (
        {"input": "hi", "max_output_tokens": -5},
        "max_output_tokens",
    ),
    "max_output_tokens of the wrong type": (
        {"input": "hi", "max_output_tokens": "many"},
        "max_output_tokens",
    ),
    "tool_choice naming a missing function": (
        {"input": "hi", "tools": [FUNCTION_TOOL], "tool_choice": {"type": "function", "name": "x"}},
        "tool_choice",
    ),
    "tool_choice naming a function with no tools": (
        {"input": "hi", "tool_choice": {"type": "function", "name": "lookup"}},
        "tool_choice",
    ),
    "allowed_tools naming a missing function": (
        {
            "input": "hi",
            "tools": [FUNCTION_TOOL],
            "tool_choice": {
                "type": "allowed_tools",
                "mode": "auto",
                "tools": [{"type": "function", "name": "missing"}],
            },
        },
        "tool_choice",
    ),
    "unknown tool_choice string": ({"input": "hi", "tool_choice": "sometimes"}, "tool_choice"),
    "metadata with too many keys": (
        {"input": "hi", "metadata": {f"key{i}": "v" for i in range(17)}},
        "metadata",
    ),
    "metadata key too long": ({"input": "hi", "metadata": {"k" * 65: "v"}}, "metadata"),
    "metadata value too long": ({"input": "hi", "metadata": {"k": "v" * 513}}, "metadata"),
    "metadata value not a string": ({"input": "hi", "metadata": {"k": 1}}, "metadata"),
    "text format of an unknown type": (
        {"input": "hi", "text": {"format": {"type": "yaml"}}},
        "text.format.type",
    ),
    "missing model": ({"input": "hi", "model": None}, "model"),
    # JSON types are strict, as with OpenAI: "yes" is no boolean, "0.5" no number.
    "stream as a string": ({"input": "hi", "stream": "yes"}, "stream"),
    "store as a string": ({"input": "hi", "store": "false"}, "store"),
    "parallel_tool_calls as a string": (
        {"input": "hi", "parallel_tool_calls": "false"},
        "parallel_tool_calls",
    ),
    "temperature as a numeric string": ({"input": "hi", "temperature": "0.5"}, "temperature"),
    "top_p as a numeric string": ({"input": "hi", "top_p": "1"}, "top_p"),
    "max_output_tokens as a numeric string": (
        {"input": "hi", "max_output_tokens": "16"},
        "max_output_tokens",
    ),
}


@pytest.mark.parametrize(
    ("body", "param"), list(INVALID_REQUESTS.values()), ids=list(INVALID_REQUESTS)
)
def test_invalid_request_is_400_naming_the_parameter(
    server: str, upstream: MockUpstream, body: dict[str, Any], param: str
) -> None:
    before = newest_id(server)
    payload = {"model": MODEL, **body}
    payload = {key: value for key, value in payload.items() if value is not None}
    with http(server) as client:
        response = client.post("/responses", json=payload)
    error = assert_envelope(response, 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] is not None
    # OpenAI names the parameter in ``param``; the message need not repeat it.
    assert error["param"].startswith(param), error
    # Nothing reached the model and nothing was stored.
    assert upstream.requests == []
    assert newest_id(server) == before


def test_invalid_request_through_the_sdk_raises_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="hi", temperature="hot")  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.param == "temperature"
    assert caught.value.type == "invalid_request_error"


def test_invalid_json_is_400(server: str, upstream: MockUpstream) -> None:
    before = newest_id(server)
    with http(server) as client:
        broken = client.post(
            "/responses",
            content=b'{"model": "openai/gpt-4o", "input": ',
            headers={"content-type": "application/json"},
        )
        not_an_object = client.post("/responses", json=["model", "input"])
        empty = client.post("/responses", content=b"", headers={"content-type": "application/json"})
    for response in (broken, not_an_object, empty):
        error = assert_envelope(response, 400)
        assert error["type"] == "invalid_request_error"
    assert upstream.requests == []
    assert newest_id(server) == before


# ----- unknown response ids ------------------------------------------------------


def test_unknown_response_id_is_404_everywhere(server: str, upstream: MockUpstream) -> None:
    missing = "resp_does_not_exist"
    before = newest_id(server)
    with http(server) as client:
        answers = [
            client.get(f"/responses/{missing}"),
            client.delete(f"/responses/{missing}"),
            client.get(f"/responses/{missing}/input_items"),
        ]
        chained = client.post(
            "/responses", json={"model": MODEL, "input": "hi", "previous_response_id": missing}
        )
    for answer in answers:
        error = assert_envelope(answer, 404)
        assert missing in error["message"]
    error = assert_envelope(chained, 404)
    assert error["param"] == "previous_response_id"
    assert missing in error["message"]
    assert upstream.requests == []
    assert newest_id(server) == before


def test_unknown_response_id_through_the_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_missing_sdk")
    with pytest.raises(openai.NotFoundError):
        client.responses.delete("resp_missing_sdk")
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list("resp_missing_sdk")
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="hi", previous_response_id="resp_missing_sdk")


# ----- unknown routes and methods ------------------------------------------------


def test_unknown_routes_answer_404_in_the_envelope(server: str) -> None:
    with http(server) as client:
        for response in (
            client.get("/no/such/route"),
            client.post("/nothing-here", json={}),
            client.get(server.removesuffix("/v1") + "/v2/responses"),
        ):
            assert_envelope(response, 404)


def test_wrong_method_answers_405_in_the_envelope(server: str) -> None:
    with http(server) as client:
        assert_envelope(client.put("/responses", json={}), 405)


# ----- body size limit -----------------------------------------------------------


def test_body_over_the_limit_is_413(small_server: str, upstream: MockUpstream) -> None:
    with http(small_server) as client:
        small = client.post("/responses", json={"model": MODEL, "input": "short"})
        assert small.status_code == 200, small.text
        before = newest_id(small_server)
        upstream.reset()
        large = client.post("/responses", json={"model": MODEL, "input": "x" * 2000})
        error = assert_envelope(large, 413)
        assert "1000" in error["message"]

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit must still hold
            yield b'{"model": "openai/gpt-4o", "input": "'
            for _ in range(20):
                yield b"y" * 100
            yield b'"}'

        streamed = client.post(
            "/responses", content=chunked(), headers={"content-type": "application/json"}
        )
        assert_envelope(streamed, 413)
        chat = client.post(
            "/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": "z" * 2000}]},
        )
        assert_envelope(chat, 413)
    assert upstream.requests == []
    assert newest_id(small_server) == before


# ----- upstream failures ---------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 422, 429])
def test_upstream_4xx_is_passed_on_and_the_response_stored_failed(
    client: openai.OpenAI, server: str, upstream: MockUpstream, status: int
) -> None:
    upstream.queue(
        *every_attempt(
            Reply(
                status=status,
                error_body={
                    "error": {
                        "message": f"upstream says no ({status})",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "upstream_refusal",
                    }
                },
            )
        )
    )
    before = newest_id(server)
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input=f"provoke {status}")
    error = assert_envelope(caught.value.response, status)
    assert f"upstream says no ({status})" in error["message"]
    stored = assert_new_failed_response(server, before, f"provoke {status}")
    assert f"upstream says no ({status})" in stored["error"]["message"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_upstream_5xx_is_502_with_a_clear_message(
    client: openai.OpenAI, server: str, upstream: MockUpstream, status: int
) -> None:
    upstream.queue(
        *every_attempt(
            Reply(
                status=status,
                error_body={"error": {"message": "engine melted", "type": "server_error"}},
            )
        )
    )
    before = newest_id(server)
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input=f"provoke {status}")
    error = assert_envelope(caught.value.response, 502)
    assert error["type"] == "server_error"
    assert "upstream" in error["message"].lower()
    assert str(status) in error["message"]
    assert "engine melted" in error["message"]
    assert_new_failed_response(server, before, f"provoke {status}")


def test_upstream_5xx_without_a_json_body_is_502(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(status=500, error_body="plain failure"))
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input="provoke plain")
    error = assert_envelope(caught.value.response, 502)
    assert "500" in error["message"]


def test_refused_connection_is_502(edge_server: str, upstream: MockUpstream) -> None:
    before = newest_id(edge_server)
    with http(edge_server) as client:
        response = client.post("/responses", json={"model": "dead/gpt-4o", "input": "anyone?"})
    error = assert_envelope(response, 502)
    assert error["type"] == "server_error"
    assert "dead" in error["message"] or "connect" in error["message"].lower()
    assert_new_failed_response(edge_server, before, "anyone?")


def test_upstream_timeout_is_504(edge_server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["too", " late"], delay=3.0))
    before = newest_id(edge_server)
    with http(edge_server) as client:
        response = client.post("/responses", json={"model": "slow/gpt-4o", "input": "hurry"})
    error = assert_envelope(response, 504)
    assert error["type"] == "server_error"
    assert "time" in error["message"].lower()
    assert_new_failed_response(edge_server, before, "hurry")


def test_chat_completions_upstream_failures_use_the_envelope(
    edge_server: str, upstream: MockUpstream
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    upstream.queue(
        Reply(status=400, error_body={"error": {"message": "bad chat", "code": "bad"}}),
        *every_attempt(Reply(status=503, error_body={"error": {"message": "busy"}})),
    )
    with http(edge_server) as client:
        refused = client.post("/chat/completions", json={"model": MODEL, "messages": messages})
        broken = client.post("/chat/completions", json={"model": MODEL, "messages": messages})
        dead = client.post("/chat/completions", json={"model": "dead/gpt-4o", "messages": messages})
        unknown = client.post(
            "/chat/completions", json={"model": "nope/nothing", "messages": messages}
        )
    assert "bad chat" in assert_envelope(refused, 400)["message"]
    assert_envelope(broken, 502)
    assert_envelope(dead, 502)
    assert assert_envelope(unknown, 404)["code"] == "model_not_found"


# ----- streaming failures --------------------------------------------------------


def test_stream_breaking_mid_way_ends_failed_and_is_stored_failed(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["one", " two", " three"], break_after=3))
    events = stream_events(server, {"model": MODEL, "input": "count"})
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] and failed["error"]["message"]
    with http(server) as client:
        stored = client.get(f"/responses/{failed['id']}")
    assert stored.status_code == 200
    assert stored.json()["status"] == "failed"
    assert stored.json()["error"] == failed["error"]


def test_stream_upstream_timeout_ends_failed(edge_server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["slow"], delay=3.0))
    events = stream_events(edge_server, {"model": "slow/gpt-4o", "input": "wait"})
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"]
    with http(edge_server) as client:
        stored = client.get(f"/responses/{events[-1]['response']['id']}")
    assert stored.json()["status"] == "failed"


def test_stream_with_an_invalid_request_is_a_plain_400(server: str) -> None:
    """Validation happens before the stream starts, so it is an HTTP error, not an event."""
    with http(server) as client:
        response = client.post(
            "/responses", json={"model": MODEL, "input": "hi", "stream": True, "top_p": 9}
        )
    assert assert_envelope(response, 400)["param"] == "top_p"


def test_store_false_failure_leaves_nothing_behind(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(status=500, error_body={"error": {"message": "down"}}))
    before = newest_id(server)
    with pytest.raises(openai.APIStatusError):
        client.responses.create(model=MODEL, input="not kept", store=False)
    assert newest_id(server) == before


def test_bounds_are_said_as_openai_says_them(server: str) -> None:
    reply = httpx.post(
        f"{server}/responses",
        json={"model": "openai/gpt-4o", "input": "hi", "max_output_tokens": 15},
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == {
        "message": "Invalid 'max_output_tokens': integer below minimum value. "
        "Expected a value >= 16, but got 15 instead.",
        "type": "invalid_request_error",
        "param": "max_output_tokens",
        "code": "integer_below_min_value",
    }

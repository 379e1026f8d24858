"""WebSocket mode on ``/v1/responses``: a real server, a real WebSocket client library.

One socket carries turn after turn (``response.create`` messages); each turn's events
are the SSE stream's, spec-valid; ``previous_response_id`` chains stored responses and,
with ``store: false``, the connection's last response; failures are ``error`` events
(the spec's ``WebSocketErrorEvent``) after which the socket still serves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from fastapi.routing import APIWebSocketRoute
from openai.types.responses import ResponseErrorEvent
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from relaystack.app import build_app
from tests.operations.test_limits import wait_for_a_fresh_minute
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread, free_port
from tests.support.sockets import receive_turn, responses_socket, turn
from tests.support.spec import assert_valid, check_stream_contract
from tests.support.sse import stream_events
from tests.support.stack import ServeProcess, stack_config, stack_settings, write_config

MODEL = "openai/gpt-4o"


def _user_texts(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def _assert_error(event: dict[str, Any], status: int, code: str, param: str | None) -> None:
    assert_valid("WebSocketErrorEvent", event)
    assert event["status"] == status, event
    assert event["error"]["code"] == code, event
    assert event["error"]["param"] == param, event


def test_a_turn_streams_the_events_sse_streams(server: str, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=["Hello", " there"]), Reply(content=["Hello", " there"]))
    with responses_socket(server) as socket:
        events = turn(socket, model=MODEL, input="hi")
    check_stream_contract(events)
    over_sse = stream_events(server, {"model": MODEL, "input": "hi"})
    assert [e["type"] for e in events] == [e["type"] for e in over_sse]
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "Hello there"


def test_turns_follow_one_another_on_one_socket(
    server: str, upstream: MockUpstream, client: openai.OpenAI
) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="one")
        second = turn(
            socket, model=MODEL, input="two", previous_response_id=first[-1]["response"]["id"]
        )
        third = turn(socket, model=MODEL, input="three")
    for events in (first, second, third):
        check_stream_contract(events)
        assert events[-1]["type"] == "response.completed"
    assert _user_texts(upstream.requests[1]) == ["one", "two"]
    assert _user_texts(upstream.requests[2]) == ["three"]
    # Stored by default, as over HTTP.
    stored = client.responses.retrieve(second[-1]["response"]["id"])
    assert stored.previous_response_id == first[-1]["response"]["id"]


def test_store_false_chains_from_the_connection_cache(
    server: str, upstream: MockUpstream, client: openai.OpenAI
) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="remember 7", store=False)
        first_id = first[-1]["response"]["id"]
        second = turn(
            socket, model=MODEL, input="what?", store=False, previous_response_id=first_id
        )
        third = turn(
            socket,
            model=MODEL,
            input="and now?",
            store=False,
            previous_response_id=second[-1]["response"]["id"],
        )
    assert second[-1]["type"] == third[-1]["type"] == "response.completed"
    assert _user_texts(upstream.requests[2]) == ["remember 7", "what?", "and now?"]
    # The context also holds the assistant's earlier answers.
    assert [m["role"] for m in upstream.requests[2]["messages"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    # Nothing of it was stored.
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first_id)


def test_only_the_last_response_is_remembered(server: str) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="a", store=False)
        turn(socket, model=MODEL, input="b", store=False)
        events = turn(
            socket, model=MODEL, input="c", previous_response_id=first[-1]["response"]["id"]
        )
    assert len(events) == 1
    _assert_error(events[0], 404, "previous_response_not_found", "previous_response_id")


def test_a_stored_turn_after_an_unstored_one_keeps_the_whole_context(
    server: str, upstream: MockUpstream
) -> None:
    """The store cannot rebuild that chain (its walk ends at the unstored link); the
    connection can."""
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="one", store=False)
        second = turn(
            socket, model=MODEL, input="two", previous_response_id=first[-1]["response"]["id"]
        )
        third = turn(
            socket, model=MODEL, input="three", previous_response_id=second[-1]["response"]["id"]
        )
    assert third[-1]["type"] == "response.completed"
    assert _user_texts(upstream.requests[2]) == ["one", "two", "three"]


def test_an_unstored_response_is_not_known_on_another_socket(server: str) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="a", store=False)
    with responses_socket(server) as other:
        events = turn(
            other, model=MODEL, input="b", previous_response_id=first[-1]["response"]["id"]
        )
    _assert_error(events[0], 404, "previous_response_not_found", "previous_response_id")


def test_a_response_stored_over_http_continues_on_a_socket(
    server: str, upstream: MockUpstream, client: openai.OpenAI
) -> None:
    stored = client.responses.create(model=MODEL, input="over http")
    with responses_socket(server) as socket:
        events = turn(socket, model=MODEL, input="over ws", previous_response_id=stored.id)
    assert events[-1]["type"] == "response.completed"
    assert _user_texts(upstream.requests[-1]) == ["over http", "over ws"]


def test_unknown_previous_id_is_an_error_event_and_the_socket_stays(
    server: str, upstream: MockUpstream
) -> None:
    missing = "resp_" + "0" * 48
    with responses_socket(server) as socket:
        events = turn(socket, model=MODEL, input="x", previous_response_id=missing)
        assert len(events) == 1
        _assert_error(events[0], 404, "previous_response_not_found", "previous_response_id")
        assert missing in events[0]["error"]["message"]
        assert events[0]["error"]["type"] == "invalid_request_error"
        after = turn(socket, model=MODEL, input="still here")
    assert after[-1]["type"] == "response.completed"
    assert len(upstream.requests) == 1  # the refused turn never called the model


def test_a_failed_turn_evicts_the_cached_response(server: str, upstream: MockUpstream) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="a", store=False)
        first_id = first[-1]["response"]["id"]
        upstream.queue(Reply(status=500, error_body={"error": {"message": "boom"}}))
        failed = turn(socket, model=MODEL, input="b", store=False, previous_response_id=first_id)
        check_stream_contract(failed)
        assert failed[-1]["type"] == "response.failed"
        retried = turn(socket, model=MODEL, input="b", store=False, previous_response_id=first_id)
    _assert_error(retried[0], 404, "previous_response_not_found", "previous_response_id")


NOT_TURNS = [
    ("not json", "invalid_json", None),
    ("[1, 2]", "invalid_json", None),
    (json.dumps({"model": MODEL, "input": "x"}), "missing_required_parameter", "type"),
    (json.dumps({"type": "response.cancel"}), "invalid_value", "type"),
]


def _create(**body: Any) -> str:
    return json.dumps({"type": "response.create", "model": MODEL, "input": "x", **body})


BAD_TURNS = [
    (_create(temperature=9), "decimal_above_max_value", "temperature"),
    (_create(bogus=1), "unknown_parameter", "bogus"),
    (_create(background=True), "unsupported_parameter", "background"),
    (_create(conversation="abc"), "invalid_value", "conversation"),
    (_create(previous_response_id="abc"), "invalid_value", "previous_response_id"),
]


@pytest.mark.parametrize(("message", "code", "param"), NOT_TURNS + BAD_TURNS)
def test_a_malformed_message_is_an_error_event_not_a_dropped_socket(
    server: str, upstream: MockUpstream, message: str, code: str, param: str | None
) -> None:
    with responses_socket(server) as socket:
        socket.send(message)
        (error,) = receive_turn(socket)
        _assert_error(error, 400, code, param)
        after = turn(socket, model=MODEL, input="next")  # the socket still serves
    assert after[-1]["type"] == "response.completed"
    assert len(upstream.requests) == 1  # the malformed message never reached the model


@pytest.mark.parametrize(("message", "code", "param"), NOT_TURNS)
def test_a_message_that_is_no_turn_keeps_the_cached_response(
    server: str, message: str, code: str, param: str | None
) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="kept", store=False)
        socket.send(message)
        receive_turn(socket)
        after = turn(
            socket, model=MODEL, input="x", previous_response_id=first[-1]["response"]["id"]
        )
    assert after[-1]["type"] == "response.completed"


@pytest.mark.parametrize(("message", "code", "param"), BAD_TURNS)
def test_a_refused_turn_evicts_the_cached_response(
    server: str, message: str, code: str, param: str | None
) -> None:
    with responses_socket(server) as socket:
        first = turn(socket, model=MODEL, input="kept", store=False)
        socket.send(message)
        receive_turn(socket)
        after = turn(
            socket, model=MODEL, input="x", previous_response_id=first[-1]["response"]["id"]
        )
    _assert_error(after[0], 404, "previous_response_not_found", "previous_response_id")


def test_binary_messages_carry_json_too(server: str) -> None:
    with responses_socket(server) as socket:
        socket.send(json.dumps({"type": "response.create", "model": MODEL, "input": "x"}).encode())
        events = receive_turn(socket)
    assert events[-1]["type"] == "response.completed"


def test_stream_fields_are_implied_on_a_socket(server: str) -> None:
    with responses_socket(server) as socket:
        events = turn(socket, model=MODEL, input="x", stream=True, stream_options={})
    assert events[-1]["type"] == "response.completed"


def test_an_unknown_model_is_an_error_event_naming_it(server: str) -> None:
    with responses_socket(server) as socket:
        (error,) = turn(socket, model="openai/nope", input="x")
    _assert_error(error, 404, "model_not_found", "model")
    assert "'openai/nope'" in error["error"]["message"]
    assert "client.models.list()" in error["error"]["message"]


@pytest.fixture
def keyed_server(upstream: MockUpstream, tmp_path: Path) -> Iterator[str]:
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'keyed.db'}",
        auth={"keys": [{"key": "sk-alice", "owner": "alice"}]},
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.mark.parametrize("key", [None, "sk-wrong"])
def test_the_upgrade_needs_the_api_key(keyed_server: str, key: str | None) -> None:
    with pytest.raises(InvalidStatus) as caught, responses_socket(keyed_server, key):
        pass
    refused = caught.value.response
    assert refused.status_code == 401
    assert json.loads(refused.body)["error"]["code"] == "invalid_api_key"


def test_turns_belong_to_the_key_s_owner(keyed_server: str) -> None:
    with responses_socket(keyed_server, "sk-alice") as socket:
        events = turn(socket, model=MODEL, input="mine")
    response_id = events[-1]["response"]["id"]
    alice = openai.OpenAI(base_url=keyed_server, api_key="sk-alice", max_retries=0)
    assert alice.responses.retrieve(response_id).status == "completed"


def test_a_client_that_leaves_mid_turn_leaves_a_cancelled_response(
    server: str, upstream: MockUpstream, client: openai.OpenAI
) -> None:
    upstream.queue(Reply(content=["slow"] * 40, delay=0.05))
    with responses_socket(server) as socket:
        socket.send(json.dumps({"type": "response.create", "model": MODEL, "input": "x"}))
        created = json.loads(socket.recv(timeout=10))
        while json.loads(socket.recv(timeout=10))["type"] != "response.output_text.delta":
            pass
    assert _final_status(client, created["response"]["id"]) == "cancelled"


def _final_status(client: openai.OpenAI, response_id: str) -> str:
    """The stored status once the turn's save has landed (it runs after the client left)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            return client.responses.retrieve(response_id).status or ""
        except openai.NotFoundError:
            time.sleep(0.05)
    raise AssertionError(f"{response_id} was never stored")


def test_the_openai_sdk_s_websocket_client_runs_chained_turns(
    server: str, upstream: MockUpstream
) -> None:
    """``client.responses.connect()``: the official SDK's own WebSocket mode client."""
    sdk = openai.OpenAI(base_url=server, api_key="sk-unused", max_retries=0)
    upstream.queue(Reply(content=["Paris"]), Reply(content=["About 2 million"]))
    finals = []
    with sdk.responses.connect() as connection:
        previous: str | None = None
        for question in ("Capital of France?", "Its population?"):
            extra = {"previous_response_id": previous} if previous else {}
            connection.response.create(model=MODEL, input=question, store=False, **extra)
            texts: list[str] = []
            for event in connection:
                if event.type == "response.output_text.delta":
                    texts.append(event.delta)
                if event.type in ("response.completed", "response.failed", "error"):
                    break
            assert event.type == "response.completed", event
            finals.append((event.response.output_text, "".join(texts)))
            previous = event.response.id
    assert finals == [("Paris", "Paris"), ("About 2 million", "About 2 million")]
    assert _user_texts(upstream.requests[1]) == ["Capital of France?", "Its population?"]


def test_the_openai_sdk_hears_an_error_event(server: str) -> None:
    sdk = openai.OpenAI(base_url=server, api_key="sk-unused", max_retries=0)
    with sdk.responses.connect() as connection:
        connection.response.create(model=MODEL, input="x", previous_response_id="resp_" + "1" * 48)
        event = next(iter(connection))
    assert isinstance(event, ResponseErrorEvent)
    assert event.code == "previous_response_not_found"
    assert event.param == "previous_response_id"


def test_a_message_over_the_body_limit_is_a_413_event(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    config = stack_config(
        upstream.base_url, f"sqlite:///{tmp_path / 'small.db'}", server={"max_body_bytes": 2048}
    )
    with ServerThread(build_app(config)) as thread, responses_socket(f"{thread.url}/v1") as socket:
        (error,) = turn(socket, model=MODEL, input="x" * 4096)
        _assert_error(error, 413, "request_too_large", None)
        assert turn(socket, model=MODEL, input="small")[-1]["type"] == "response.completed"


def test_owner_limits_count_each_turn(upstream: MockUpstream, tmp_path: Path) -> None:
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'limited.db'}",
        auth={"keys": [{"key": "sk-a", "owner": "a"}]},
        operations={"limits": {"owners": {"a": {"requests_per_minute": 2}}}},
    )
    wait_for_a_fresh_minute()
    server = ServerThread(build_app(config))
    with server, responses_socket(f"{server.url}/v1", "sk-a") as socket:
        for _ in range(2):
            assert turn(socket, model=MODEL, input="x")[-1]["type"] == "response.completed"
        (refused,) = turn(socket, model=MODEL, input="x")
        _assert_error(refused, 429, "rate_limit_exceeded", None)
        socket.send("still open?")
        assert receive_turn(socket)[0]["error"]["code"] == "invalid_json"
    assert len(upstream.requests) == 2


def test_relaystack_serve_logs_each_socket_turn_as_a_request(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    """The real ``relaystack serve`` (its uvicorn settings), one log line per turn."""
    settings = stack_settings(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'serve.db'}",
        auth={"keys": [{"key": "sk-team", "owner": "team"}]},
    )
    config = write_config(tmp_path / "relaystack.yaml", settings)
    log_file = tmp_path / "serve.log"
    process = ServeProcess(
        config, free_port(), log_file, "--log-format", "json", "--log-level", "info"
    )
    try:
        process.wait_ready()
        with responses_socket(process.url, "sk-team") as socket:
            first = turn(socket, model=MODEL, input="one", store=False)
            (refused,) = turn(socket, model="openai/none", input="two")
        lines = _socket_log_lines(log_file, 2)
    finally:
        process.stop()
    assert first[-1]["type"] == "response.completed"
    assert refused["status"] == 404
    assert [(line["status"], line["owner"], line["path"]) for line in lines] == [
        (200, "team", "/v1/responses"),
        (404, "team", "/v1/responses"),
    ]
    assert lines[0]["model"] == MODEL and lines[0]["input_tokens"] == 11
    assert lines[0]["request_id"] != lines[1]["request_id"]


def _socket_log_lines(log_file: Path, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [
            json.loads(text)
            for text in log_file.read_text().splitlines()
            if '"method":"WEBSOCKET"' in text
        ]
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} turn lines:\n{log_file.read_text()}")


def test_every_websocket_route_needs_the_key(upstream: MockUpstream, tmp_path: Path) -> None:
    """Walks the route table, so a WebSocket route added later is covered too."""
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'walk.db'}",
        auth={"keys": [{"key": "sk-only", "owner": "only"}]},
    )
    app = build_app(config)
    paths = [route.path for route in _websocket_routes(app.routes)]
    assert "/v1/responses" in paths
    with ServerThread(app) as thread:
        for path in paths:
            url = f"ws://127.0.0.1:{thread.port}{path}"
            with pytest.raises(InvalidStatus) as caught, connect(url, open_timeout=10):
                pass
            assert caught.value.response.status_code == 401, path


def _websocket_routes(routes: list[Any]) -> list[Any]:
    # Later FastAPI versions keep included routers whole in app.routes: walk into them.
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [route for route in routes if isinstance(route, APIWebSocketRoute)]
    return [
        context
        for context in iter_route_contexts(routes)
        if isinstance(context.original_route, APIWebSocketRoute)
    ]

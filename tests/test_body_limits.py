"""Limits on what one request body may hold: each one hit is a 400 naming the parameter
and the limit, found before the work it would cost; and a huge body is checked off the
event loop, so everybody else keeps being answered meanwhile."""

from __future__ import annotations

import concurrent.futures
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.sse import stream_events
from tests.test_errors import assert_envelope

MODEL = "openai/gpt-4o"


@pytest.fixture(scope="module")
def limited_server(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    database = tmp_path_factory.mktemp("limits") / "relaystack.db"
    limits = {
        "max_input_items": 50,
        "max_content_parts": 5,
        "body_timeout": 0.5,
        "max_json_depth": 200,
    }
    with ServerThread(build_app(server_config(upstream.base_url, database, server=limits))) as t:
        yield f"{t.url}/v1"


def _user(text: str, parts: int = 1) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "input_text", "text": text}] * parts}


def _post(base: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{base}{path}", json=body, timeout=120)


def _nested(depth: int) -> dict[str, Any]:
    """A JSON schema whose objects nest ``depth`` levels (each level two JSON levels)."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"inner": schema}}
    return schema


def _array(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


# ----- counts ----------------------------------------------------------------------


def test_too_many_input_items_is_a_400_naming_input(limited_server: str) -> None:
    reply = _post(limited_server, "/responses", {"model": MODEL, "input": [_user("x")] * 51})
    error = assert_envelope(reply, 400)
    assert error["param"] == "input"
    assert error["code"] == "array_above_max_length"
    assert "maximum length 50" in error["message"] and "length 51" in error["message"]


def test_input_items_at_the_limit_are_fine(limited_server: str, upstream: MockUpstream) -> None:
    reply = _post(limited_server, "/responses", {"model": MODEL, "input": [_user("x")] * 50})
    assert reply.status_code == 200, reply.text
    assert len(upstream.requests[-1]["messages"]) == 50


def test_too_many_tools_is_a_400_naming_tools(server: str, upstream: MockUpstream) -> None:
    tools = [{"type": "function", "name": f"tool_{i}"} for i in range(129)]
    reply = _post(server, "/responses", {"model": MODEL, "input": "x", "tools": tools})
    error = assert_envelope(reply, 400)
    assert (error["param"], error["code"]) == ("tools", "array_above_max_length")
    assert "maximum length 128" in error["message"]
    assert upstream.requests == []


def test_too_many_content_parts_is_a_400_naming_the_message(limited_server: str) -> None:
    body = {"model": MODEL, "input": [_user("fine"), _user("x", parts=6)]}
    error = assert_envelope(_post(limited_server, "/responses", body), 400)
    assert error["param"] == "input[1].content"
    assert "maximum length 5" in error["message"]


def test_chat_messages_are_capped_too(limited_server: str) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}] * 51}
    error = assert_envelope(_post(limited_server, "/chat/completions", body), 400)
    assert error["param"] == "messages"


def test_conversation_items_are_counted_before_they_are_validated(server: str) -> None:
    # 21 items that would each fail validation: the count is what the client hears.
    body = {"items": [{"type": "hologram"}] * 21}
    error = assert_envelope(_post(server, "/conversations", body), 400)
    assert (error["param"], error["code"]) == ("items", "array_above_max_length")
    assert "maximum length 20" in error["message"]


# ----- nesting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {"tools": [{"type": "function", "name": "deep", "parameters": _nested(120)}]},
            "tools[0].parameters",
        ),
        (
            {"text": {"format": {"type": "json_schema", "name": "deep", "schema": _nested(120)}}},
            "text.format.schema",
        ),
        ({"metadata": {"deep": _array(300)}}, "metadata.deep"),
    ],
    ids=["tool parameters", "text format schema", "metadata"],
)
def test_deep_nesting_is_a_400_naming_the_parameter(
    server: str, upstream: MockUpstream, body: dict[str, Any], param: str
) -> None:
    reply = _post(server, "/responses", {"model": MODEL, "input": "x", **body})
    error = assert_envelope(reply, 400)
    assert (error["param"], error["code"]) == (param, "nesting_above_max_depth")
    assert "at most 64 levels" in error["message"]
    assert upstream.requests == []


def test_deep_nesting_in_a_stream_request_is_a_plain_400(server: str) -> None:
    tools = [{"type": "function", "name": "deep", "parameters": _nested(120)}]
    body = {"model": MODEL, "input": "x", "tools": tools, "stream": True}
    assert assert_envelope(_post(server, "/responses", body), 400)["param"] == "tools[0].parameters"


def test_deep_chat_body_is_a_400(server: str, upstream: MockUpstream) -> None:
    messages = [{"role": "user", "content": "x", "extra": _array(300)}]
    error = assert_envelope(
        _post(server, "/chat/completions", {"model": MODEL, "messages": messages}), 400
    )
    assert error["param"] == "messages[0].extra"
    assert upstream.requests == []


def test_nesting_just_within_the_limit_streams_stores_and_reads_back(
    server: str, upstream: MockUpstream
) -> None:
    # The parameters object sits 4 levels down: 30 schema levels reach level 64.
    schema = _nested(30)
    tools = [{"type": "function", "name": "deep", "parameters": schema}]
    events = stream_events(server, {"model": MODEL, "input": "x", "tools": tools})
    assert events[-1]["type"] == "response.completed"
    stored = httpx.get(f"{server}/responses/{events[-1]['response']['id']}")
    assert stored.status_code == 200
    assert stored.json()["tools"][0]["parameters"] == schema
    assert upstream.requests[-1]["tools"][0]["function"]["parameters"] == schema


def test_the_deepest_limit_config_allows_still_encodes(
    limited_server: str, upstream: MockUpstream
) -> None:
    """At ``max_json_depth: 200`` (the highest allowed) events, the stored response and
    the upstream body are a few levels deeper still, and all stay under orjson's 254."""
    schema = _nested(98)  # level 4 + 2 * 98 = 200
    tools = [{"type": "function", "name": "deep", "parameters": schema}]
    events = stream_events(limited_server, {"model": MODEL, "input": "x", "tools": tools})
    assert events[-1]["type"] == "response.completed"
    stored = httpx.get(f"{limited_server}/responses/{events[-1]['response']['id']}")
    assert stored.json()["tools"][0]["parameters"] == schema


# ----- huge bodies ------------------------------------------------------------------


def test_a_huge_body_is_refused_while_others_keep_being_answered(
    server: str, upstream: MockUpstream
) -> None:
    """200k messages (6 MB) and a body within every count that fails at its very end:
    both are 400s, and small requests from another client all succeed meanwhile."""
    many = orjson.dumps({"model": MODEL, "input": [{"role": "user", "content": "x"}] * 200_000})
    late_failure = {
        "model": MODEL,
        "input": [_user(f"message {i}", parts=8) for i in range(4095)] + [{"role": "robot"}],
    }
    small = openai.OpenAI(base_url=server, api_key="sk-unused", max_retries=0, timeout=120)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        big = [
            pool.submit(
                httpx.post,
                f"{server}/responses",
                content=many,
                headers={"content-type": "application/json"},
                timeout=120,
            ),
            pool.submit(httpx.post, f"{server}/responses", json=late_failure, timeout=120),
        ]
        answers = []
        while not all(future.done() for future in big) or len(answers) < 3:
            answers.append(small.responses.create(model=MODEL, input=f"ping {len(answers)}"))
    assert all(answer.status == "completed" for answer in answers)
    too_many, invalid = (future.result() for future in big)
    assert assert_envelope(too_many, 400)["param"] == "input"
    assert assert_envelope(invalid, 400)["param"].startswith("input[4095]")


# ----- slow bodies ------------------------------------------------------------------


def test_a_body_that_stops_arriving_is_a_408(limited_server: str) -> None:
    host, port = limited_server.removeprefix("http://").removesuffix("/v1").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"model": '
        )
        answer = sock.recv(65536).decode()  # the socket's own timeout guards a hang
    assert answer.startswith("HTTP/1.1 408"), answer
    assert '"code":"request_timeout"' in answer

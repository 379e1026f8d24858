"""Inputs with nothing to send, and upstreams that misbehave: clear errors, no nulls."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support.bodies import nulls_in
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.raw_upstream import RawUpstream
from tests.support.servers import ServerThread
from tests.support.sse import stream_events

MODEL = "openai/gpt-4o"


def http(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30)


def newest(base_url: str) -> dict[str, Any] | None:
    with http(base_url) as client:
        data = client.get("/responses", params={"limit": 1}).json()["data"]
    return data[0] if data else None


def completed_texts(base_url: str) -> list[str]:
    """The output texts of a turn on the raw upstream, which must complete."""
    with http(base_url) as client:
        response = client.post("/responses", json={"model": "raw/m", "input": "hi"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed"
    return [part["text"] for item in body["output"] for part in item["content"]]


# ----- 1. content parts with nothing to send are accepted and sent as nulls --------


@pytest.mark.parametrize(
    "part",
    [{"type": "input_image"}, {"type": "input_image", "detail": "high"}, {"type": "input_file"}],
    ids=["image without url", "image with only detail", "file without data"],
)
def test_content_part_without_a_source_is_400(
    server: str, upstream: MockUpstream, part: dict[str, Any]
) -> None:
    before = newest(server)
    with http(server) as client:
        response = client.post(
            "/responses",
            json={"model": MODEL, "input": [{"role": "user", "content": [part]}]},
        )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["param"] is not None
    assert error["param"].startswith("input[0].content[0]")
    assert upstream.requests == []
    assert newest(server) == before


# ----- 2. no nulls in the upstream body for tool calls ---------------------------


def test_tool_call_continuation_sends_no_nulls_upstream(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(tool_calls=[{"id": "call_n", "name": "ping", "arguments": "{}"}]))
    tool = {"type": "function", "name": "ping", "parameters": {"type": "object"}}
    first = client.responses.create(model=MODEL, input="Ping it", tools=[tool])
    client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[tool],
        input=[{"type": "function_call_output", "call_id": "call_n", "output": "pong"}],
    )
    body = upstream.requests[-1]
    assert body["messages"][1]["tool_calls"][0]["id"] == "call_n"
    assert nulls_in(body) == []


# ----- 3. a malformed upstream chunk is a 500 "invalid_request_error" -------------


def test_malformed_upstream_chunk_is_a_502_upstream_error(
    client: openai.OpenAI, server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(chunks=["not a chunk object"]))  # sent as: data: "not a chunk object"
    before = newest(server)
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input="Malformed")
    response = caught.value.response
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert error["code"] == "upstream_error"
    stored = newest(server)
    assert stored is not None and stored["id"] != (before or {}).get("id")
    assert stored["status"] == "failed"
    assert stored["error"]["code"] == "server_error"  # a response's code is OpenAI's


def test_malformed_upstream_chunk_fails_a_stream_as_an_upstream_error(
    server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(chunks=[["a", "list"]]))
    events = stream_events(server, {"model": MODEL, "input": "Malformed stream"})
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"


@pytest.fixture(scope="module")
def raw_server(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, RawUpstream]]:
    raw = RawUpstream()
    with ServerThread(raw.app) as raw_thread:
        config = server_config(
            upstream.base_url,
            tmp_path_factory.mktemp("raw") / "relaystack.db",
            providers=[
                {
                    "id": "raw",
                    "type": "openai-compatible",
                    "base_url": f"{raw_thread.url}/v1",
                    "models": ["m"],
                }
            ],
        )
        with ServerThread(build_app(config)) as thread:
            yield f"{thread.url}/v1", raw


def test_upstream_data_line_that_is_not_json_is_a_502(
    raw_server: tuple[str, RawUpstream],
) -> None:
    base_url, raw = raw_server
    raw.answer(b'data: {"id": "x", "choices": [\n\ndata: [DONE]\n\n')
    with http(base_url) as client:
        response = client.post("/responses", json={"model": "raw/m", "input": "hi"})
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert error["code"] == "upstream_error"
    stored = newest(base_url)
    assert stored is not None and stored["status"] == "failed"


def test_upstream_answering_json_instead_of_a_stream_is_not_an_empty_success(
    raw_server: tuple[str, RawUpstream],
) -> None:
    """An upstream that ignores ``stream: true`` and answers one JSON completion: that
    completion is the answer (as streamed chunks would have been), not an empty one."""
    base_url, raw = raw_server
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Not streamed"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    raw.answer(json.dumps(completion).encode(), media_type="application/json")
    with http(base_url) as client:
        response = client.post("/responses", json={"model": "raw/m", "input": "hi"})
    assert response.status_code == 200, response.text
    body = response.json()
    texts = [p["text"] for i in body["output"] for p in i.get("content", [])]
    assert texts == ["Not streamed"], body
    assert body["status"] == "completed"
    assert body["usage"]["output_tokens"] == 2
    stored = newest(base_url)
    assert stored is not None and stored["id"] == body["id"]
    assert stored["output"] == body["output"]


def test_upstream_stream_in_any_valid_sse_framing_is_read(
    raw_server: tuple[str, RawUpstream],
) -> None:
    """CRLF line ends, comments, event names and a data field split over two lines are
    all valid SSE; chunks after ``[DONE]`` are never read."""
    base_url, raw = raw_server
    envelope = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    first = {
        **envelope,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Ring"}}],
    }
    second = {**envelope, "choices": [{"index": 0, "delta": {"content": "ed"}}]}
    finish = {**envelope, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    late = {**envelope, "choices": [{"index": 0, "delta": {"content": " late"}}]}
    split = json.dumps(second, indent=1).split("\n")
    raw.answer(
        (
            f": keep-alive\r\nevent: chunk\r\ndata: {json.dumps(first)}\r\n\r\n"
            + "".join(f"data: {line}\r\n" for line in split)
            + f"\r\ndata: {json.dumps(finish)}\r\n\r\ndata: [DONE]\r\n\r\n"
            + f"data: {json.dumps(late)}\r\n\r\n"
        ).encode()
    )
    assert completed_texts(base_url) == ["Ringed"]


def test_upstream_stream_sent_compressed_is_read(raw_server: tuple[str, RawUpstream]) -> None:
    """An event stream sent with ``content-encoding: gzip`` (a proxy in front of the
    model may compress it) is decoded before it is read as SSE."""
    base_url, raw = raw_server
    envelope = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    chunks = [
        {**envelope, "choices": [{"index": 0, "delta": {"content": "Zip"}}]},
        {**envelope, "choices": [{"index": 0, "delta": {"content": "ped"}}]},
        {**envelope, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    stream = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    raw.answer(gzip.compress(stream.encode()), headers={"content-encoding": "gzip"})
    assert completed_texts(base_url) == ["Zipped"]

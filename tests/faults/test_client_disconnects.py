"""A client that hangs up at every point of a turn served by an OpenAI-compatible
upstream: the upstream call is closed, and the store holds the turn as it ended:
``cancelled`` with a prefix of the answer and the conversation unchanged, or (when the
client left after the answer was complete) ``completed`` and in the conversation."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.faults.conftest import conversation_items, new_conversation, serving, stored
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.spec import assert_valid_response
from tests.support.stack import ServeProcess, stack_settings

MODEL = "openai/gpt-4o"
WORDS = ["one", " two", " three", " four", " five"]
# created, in_progress, output_item.added, content_part.added, 5 deltas, text.done,
# content_part.done, output_item.done, completed.
EVENTS = 13


@pytest.fixture(scope="module")
def disconnect_server(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    directory = tmp_path_factory.mktemp("disconnects")
    settings = stack_settings(upstream.base_url, f"sqlite:///{directory / 'state.db'}")
    with serving(directory, settings) as process:
        yield process


def _request(port: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    return (
        b"POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(payload)
    ) + payload


def _events_then_hang_up(port: int, body: dict[str, Any], keep: int) -> list[dict[str, Any]]:
    """Stream a turn over a raw socket, read ``keep`` events, close the connection."""
    events: list[dict[str, Any]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_request(port, {**body, "stream": True}))
        buffer = b""
        while len(events) < keep:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n\n" in buffer and len(events) < keep:
                frame, buffer = buffer.split(b"\n\n", 1)
                data = [line[6:] for line in frame.split(b"\n") if line.startswith(b"data: ")]
                if data:
                    events.append(json.loads(data[0]))
    return events


def _settled(base_url: str, response_id: str) -> dict[str, Any]:
    """The stored response once its save (which runs on after the client left) is done."""
    for _ in range(200):
        found = stored(base_url, response_id)
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{response_id} was never stored")


def _newest_id(base_url: str) -> str | None:
    page = httpx.get(f"{base_url}/responses", params={"limit": 1}, timeout=30).json()["data"]
    return page[0]["id"] if page else None


def _settled_newest(base_url: str, before: str | None) -> dict[str, Any]:
    for _ in range(200):
        newest = _newest_id(base_url)
        if newest != before and newest is not None:
            return _settled(base_url, newest)
        time.sleep(0.05)
    raise AssertionError("the turn was never stored")


def _wait_for_upstream_end(upstream: MockUpstream) -> str:
    """How the upstream call ended; call only once the turn was stored (its call is
    closed by then), so "never called" is final."""
    if not upstream.requests:
        return "never called"
    for _ in range(200):
        if upstream.stream_outcomes:
            return upstream.stream_outcomes[-1]
        time.sleep(0.05)
    raise AssertionError(f"the upstream stream never ended: {len(upstream.requests)} requests")


@pytest.mark.parametrize("keep", range(1, EVENTS), ids=lambda keep: f"after {keep} events")
def test_a_streaming_client_hanging_up(
    disconnect_server: ServeProcess, upstream: MockUpstream, keep: int
) -> None:
    upstream.queue(Reply(content=WORDS, delay=0.15))
    conversation = new_conversation(disconnect_server.url)
    body = {"model": MODEL, "input": f"hang up after {keep}", "conversation": conversation}
    events = _events_then_hang_up(disconnect_server.port, body, keep)
    assert len(events) == keep
    response_id = events[0]["response"]["id"]
    kept = _settled(disconnect_server.url, response_id)
    outcome = _wait_for_upstream_end(upstream)
    assert_valid_response(kept)
    items = conversation_items(disconnect_server.url, conversation)
    streamed = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    if kept["status"] == "completed":
        # The answer was whole (and saved) before the hang-up was noticed.
        assert outcome == "complete"
        assert kept["output"][0]["content"][0]["text"] == "".join(WORDS)
        assert [item["role"] for item in items] == ["user", "assistant"]
    else:
        assert kept["status"] == "cancelled"
        assert outcome in ("abandoned", "never called"), "the upstream call was left running"
        text = "".join(part["text"] for item in kept["output"] for part in item["content"])
        assert text.startswith(streamed) and "".join(WORDS).startswith(text)
        assert items == []
    if keep <= 4:  # before the first delta could have been generated
        assert kept["status"] == "cancelled"


@pytest.mark.parametrize("after", [0.0, 0.1, 0.4, 0.7], ids=lambda s: f"after {s}s")
def test_a_waiting_json_client_hanging_up(
    disconnect_server: ServeProcess, upstream: MockUpstream, after: float
) -> None:
    upstream.queue(Reply(content=WORDS, delay=0.2))
    conversation = new_conversation(disconnect_server.url)
    body = {"model": MODEL, "input": f"json hang up after {after}", "conversation": conversation}
    before = _newest_id(disconnect_server.url)
    with socket.create_connection(("127.0.0.1", disconnect_server.port), timeout=30) as sock:
        sock.sendall(_request(disconnect_server.port, body))
        time.sleep(after)
    kept = _settled_newest(disconnect_server.url, before)
    assert _wait_for_upstream_end(upstream) in ("abandoned", "never called")
    inputs = httpx.get(f"{disconnect_server.url}/responses/{kept['id']}/input_items").json()
    assert inputs["data"][0]["content"][0]["text"] == body["input"]
    assert kept["status"] == "cancelled"
    assert conversation_items(disconnect_server.url, conversation) == []

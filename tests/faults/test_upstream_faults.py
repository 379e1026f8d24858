"""An upstream that refuses, stalls, drops mid-stream, sends malformed SSE or a 429 with
retry-after, under a real ``relaystack serve``: a clear error or a whole answer, and a
store (and conversation) that says exactly that."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from tests.faults.conftest import (
    conversation_items,
    new_conversation,
    serving,
    stored,
)
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.raw_upstream import RawUpstream
from tests.support.servers import ServerThread, free_port
from tests.support.spec import assert_valid_response, check_stream_contract
from tests.support.sse import stream_events
from tests.support.stack import ServeProcess


@pytest.fixture(scope="module")
def silent_upstream() -> Iterator[str]:
    """A port that takes connections (the kernel completes them) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


@pytest.fixture(scope="module")
def raw_upstream() -> Iterator[tuple[str, RawUpstream]]:
    raw = RawUpstream()
    with ServerThread(raw.app) as thread:
        yield f"{thread.url}/v1", raw


@pytest.fixture(scope="module")
def faulty(
    upstream: MockUpstream,
    silent_upstream: str,
    raw_upstream: tuple[str, RawUpstream],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServeProcess]:
    directory = tmp_path_factory.mktemp("upstream-faults")
    provider = {"type": "openai-compatible", "models": ["gpt-4o"], "timeout": 2}
    fast_retry = {"attempts": 3, "initial_backoff": 0.05, "budget": 5}
    settings = {
        "providers": [
            {**provider, "id": "mock", "base_url": upstream.base_url, "retry": fast_retry},
            {**provider, "id": "refusing", "base_url": f"http://127.0.0.1:{free_port()}/v1"},
            {**provider, "id": "silent", "base_url": silent_upstream},
            {**provider, "id": "raw", "base_url": raw_upstream[0]},
        ],
        "storage": {"url": f"sqlite:///{directory / 'state.db'}"},
    }
    with serving(directory, settings) as process:
        yield process


@dataclass
class Fault:
    model: str
    arrange: Callable[[MockUpstream, RawUpstream], None]
    status: int  # what a JSON request gets
    code: str  # its error's code (relaystack's own)
    # The failed response's code: OpenAI's Responses error codes have no upstream ones.
    failed_code: str = "server_error"


def _nothing(upstream: MockUpstream, raw: RawUpstream) -> None:
    pass


FAULTS = {
    "refuses": Fault("refusing/gpt-4o", _nothing, 502, "upstream_error"),
    "stalls before answering": Fault("silent/gpt-4o", _nothing, 504, "upstream_timeout"),
    "stalls mid-stream": Fault(
        "mock/gpt-4o",
        lambda up, raw: up.queue(Reply(content=["slow", " words"], delay=5)),
        504,
        "upstream_timeout",
    ),
    "drops mid-stream": Fault(
        "mock/gpt-4o",
        lambda up, raw: up.queue(Reply(content=["cut", " short", " here"], break_after=3)),
        502,
        "upstream_error",
    ),
    "malformed SSE": Fault(
        "raw/gpt-4o",
        lambda up, raw: raw.answer(b'data: {"choices": [{"delta": \n\ndata: [DONE]\n\n'),
        502,
        "upstream_error",
    ),
    "not SSE at all": Fault(
        "raw/gpt-4o",
        lambda up, raw: raw.answer(b"<html>gateway</html>", media_type="text/html"),
        502,
        "upstream_error",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_a_json_turn_gets_a_clear_error_and_is_stored_failed(
    faulty: ServeProcess,
    upstream: MockUpstream,
    raw_upstream: tuple[str, RawUpstream],
    fault: str,
) -> None:
    case = FAULTS[fault]
    case.arrange(upstream, raw_upstream[1])
    conversation = new_conversation(faulty.url)
    body = {"model": case.model, "input": f"json: {fault}", "conversation": conversation}
    reply = httpx.post(f"{faulty.url}/responses", json=body, timeout=60)
    assert reply.status_code == case.status, reply.text
    error = reply.json()["error"]
    assert error["code"] == case.code and error["message"]
    assert set(error) == {"message", "type", "param", "code"}
    failed = _newest_with_input(faulty.url, f"json: {fault}")
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == case.failed_code
    assert_valid_response(failed)
    assert conversation_items(faulty.url, conversation) == []


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_a_streamed_turn_ends_failed_and_is_stored_as_streamed(
    faulty: ServeProcess,
    upstream: MockUpstream,
    raw_upstream: tuple[str, RawUpstream],
    fault: str,
) -> None:
    case = FAULTS[fault]
    case.arrange(upstream, raw_upstream[1])
    conversation = new_conversation(faulty.url)
    events = stream_events(
        faulty.url, {"model": case.model, "input": f"stream: {fault}", "conversation": conversation}
    )
    check_stream_contract(events)
    last = events[-1]
    assert last["type"] == "response.failed"
    assert last["response"]["error"]["code"] == case.failed_code
    kept = stored(faulty.url, last["response"]["id"])
    assert kept is not None
    assert kept["status"] == "failed"
    assert kept["error"] == last["response"]["error"]
    assert kept["output"] == last["response"]["output"]
    assert conversation_items(faulty.url, conversation) == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_429_with_retry_after_is_waited_out_and_answered_whole(
    faulty: ServeProcess, upstream: MockUpstream, stream: bool
) -> None:
    busy = Reply(
        status=429, error_body={"error": {"message": "slow down"}}, headers={"retry-after": "1"}
    )
    upstream.queue(busy, Reply(content=["after", " the", " wait"]))
    conversation = new_conversation(faulty.url)
    body = {"model": "mock/gpt-4o", "input": "rate limited", "conversation": conversation}
    if stream:
        events = stream_events(faulty.url, body)
        check_stream_contract(events)
        answered = events[-1]["response"]
    else:
        client = openai.OpenAI(base_url=faulty.url, api_key="unused", max_retries=0)
        answered = client.responses.create(**body).model_dump(mode="json", exclude_none=True)
    assert answered["status"] == "completed"
    assert answered["output"][0]["content"][0]["text"] == "after the wait"
    assert len(upstream.arrivals) == 2
    assert upstream.arrivals[1] - upstream.arrivals[0] >= 0.95
    kept = stored(faulty.url, answered["id"])
    assert kept is not None and kept["status"] == "completed"
    assert kept["output"] == answered["output"]
    items = conversation_items(faulty.url, conversation)
    assert [item["role"] for item in items] == ["user", "assistant"]


def _newest_with_input(base_url: str, text: str) -> dict[str, Any]:
    page = httpx.get(f"{base_url}/responses", params={"limit": 5}, timeout=30).json()["data"]
    for response in page:
        items = httpx.get(f"{base_url}/responses/{response['id']}/input_items", timeout=30)
        contents = [part for item in items.json()["data"] for part in item.get("content", [])]
        if any(part.get("text") == text for part in contents):
            return response
    raise AssertionError(f"no stored response has the input {text!r}")

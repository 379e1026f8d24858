"""What clients learn when an upstream fails: never relaystack's key or the upstream's
address; an upstream refusing relaystack's key is a 502 (the client's key is fine);
and an upstream call that trickles on past its deadline ends as a 504."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread, free_port
from tests.support.sse import stream_events
from tests.test_errors import assert_envelope

MODEL = "openai/gpt-4o"
MASKED_KEY = "sk-te************************ab12"


@pytest.fixture(scope="module")
def deadline_server(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``openai``: the mock; ``steady``: the mock with a 1 s deadline; ``dead``: nobody."""
    database = tmp_path_factory.mktemp("deadline") / "relaystack.db"
    mock = {"type": "openai-compatible", "base_url": upstream.base_url, "models": ["gpt-4o"]}
    dead_url = f"http://127.0.0.1:{free_port()}/v1"
    config = server_config(
        upstream.base_url,
        database,
        providers=[
            {**mock, "id": "openai", "api_key": "sk-test"},
            {**mock, "id": "steady", "timeout": 5, "deadline": 1},
            {**mock, "id": "dead", "base_url": dead_url, "connect_timeout": 5},
        ],
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


def _refusal(status: int) -> Reply:
    message = f"Incorrect API key provided: {MASKED_KEY}. You can find your API key at ..."
    return Reply(status=status, error_body={"error": {"message": message, "code": "invalid_key"}})


@pytest.mark.parametrize("status", [401, 403])
def test_upstream_refusing_our_key_is_a_502_without_the_key(
    deadline_server: str, upstream: MockUpstream, status: int
) -> None:
    upstream.queue(_refusal(status))
    reply = httpx.post(f"{deadline_server}/responses", json={"model": MODEL, "input": "hi"})
    error = assert_envelope(reply, 502)
    assert error["type"] == "server_error"
    assert "refused relaystack's credentials" in error["message"]
    assert MASKED_KEY not in reply.text and "sk-te" not in reply.text


def test_upstream_refusing_our_key_fails_a_stream_without_the_key(
    deadline_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(_refusal(401))
    events = stream_events(deadline_server, {"model": MODEL, "input": "hi"})
    assert events[-1]["type"] == "response.failed"
    assert "refused relaystack's credentials" in events[-1]["response"]["error"]["message"]
    assert "sk-te" not in str(events)


def test_chat_pass_through_maps_an_upstream_401_to_a_502(
    deadline_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(_refusal(401))
    messages = [{"role": "user", "content": "hi"}]
    reply = httpx.post(
        f"{deadline_server}/chat/completions", json={"model": MODEL, "messages": messages}
    )
    assert "refused relaystack's credentials" in assert_envelope(reply, 502)["message"]
    assert "sk-te" not in reply.text


def test_unreachable_upstream_names_the_provider_not_its_address(deadline_server: str) -> None:
    reply = httpx.post(
        f"{deadline_server}/responses", json={"model": "dead/gpt-4o", "input": "anyone?"}
    )
    error = assert_envelope(reply, 502)
    assert "upstream dead" in error["message"]
    assert "127.0.0.1" not in reply.text and "http://" not in reply.text


def test_upstream_timeout_names_the_provider_not_its_address(
    deadline_server: str, upstream: MockUpstream
) -> None:
    # Each chunk keeps within the read timeout; together they overrun the deadline.
    upstream.queue(Reply(content=["a", " b", " c", " d", " e", " f"], delay=0.4))
    reply = httpx.post(
        f"{deadline_server}/responses", json={"model": "steady/gpt-4o", "input": "slowly"}
    )
    error = assert_envelope(reply, 504)
    assert "deadline of 1 seconds" in error["message"]
    assert "upstream steady" in error["message"]
    assert "http://" not in reply.text


def test_stream_past_its_deadline_ends_failed_and_is_stored_failed(
    deadline_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["a", " b", " c", " d", " e", " f"], delay=0.4))
    events = stream_events(deadline_server, {"model": "steady/gpt-4o", "input": "slowly"})
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["error"]["code"] == "server_error"
    assert "deadline" in failed["error"]["message"]
    stored = httpx.get(f"{deadline_server}/responses/{failed['id']}")
    assert stored.json()["status"] == "failed"


def test_a_steady_upstream_within_its_deadline_is_untouched(
    deadline_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["a", " b"], delay=0.1))
    reply = httpx.post(
        f"{deadline_server}/responses", json={"model": "steady/gpt-4o", "input": "soon"}
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["output"][0]["content"][0]["text"] == "a b"

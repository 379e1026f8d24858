"""An upstream's 429 or 503 before any output is retried (with its retry-after, inside a
budget); nothing is retried once output has been sent."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import openai
import pytest

from relaystack.app import build_app
from relaystack.inference.retry import RetryConfig, RetrySchedule, retry_after_seconds
from tests.conftest import server_config
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.spec import assert_valid_response, check_stream_contract
from tests.support.spec_transport import spec_checked_client
from tests.support.sse import stream_events

MODEL = "retrying/gpt-4o"
ONCE = "once/gpt-4o"


def busy(status: int = 429, retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    message = "rate limited" if status == 429 else "overloaded"
    return Reply(status=status, error_body={"error": {"message": message}}, headers=headers)


@pytest.fixture(scope="module")
def retry_server(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    mock = {"type": "openai-compatible", "base_url": upstream.base_url, "models": ["gpt-4o"]}
    retry = {"attempts": 3, "initial_backoff": 0.05, "max_backoff": 0.2, "budget": 3}
    config = server_config(
        upstream.base_url,
        tmp_path_factory.mktemp("retries") / "relaystack.db",
        providers=[
            {**mock, "id": "retrying", "retry": retry},
            {**mock, "id": "once", "retry": {"attempts": 1}},
        ],
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture
def client(retry_server: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=retry_server, api_key="sk-unused", max_retries=0, http_client=spec_checked_client()
    )


def stored(base_url: str, response_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{base_url}/responses/{response_id}", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_upstream_is_called_again_and_the_answer_is_whole(
    client: openai.OpenAI, retry_server: str, upstream: MockUpstream, status: int
) -> None:
    upstream.queue(busy(status, retry_after="0"), Reply(content=["Hello", " again"]))
    response = client.responses.create(model=MODEL, input="hi")
    assert response.status == "completed"
    assert response.output_text == "Hello again"
    assert len(upstream.requests) == 2
    assert upstream.requests[0] == upstream.requests[1]
    kept = stored(retry_server, response.id)
    assert_valid_response(kept)
    assert kept["status"] == "completed"
    assert kept["output"] == response.model_dump(mode="json", exclude_none=True)["output"]


def test_a_stream_starts_only_after_the_retried_call_answers(
    retry_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(busy(503), busy(429, retry_after="0"), Reply(content=["third", " time"]))
    events = stream_events(retry_server, {"model": MODEL, "input": "stream it"})
    check_stream_contract(events)
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "third time"
    assert len(upstream.requests) == 3
    assert stored(retry_server, events[-1]["response"]["id"])["status"] == "completed"


def test_retry_after_as_an_http_date_is_waited_for(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    not_before = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    upstream.queue(busy(429, retry_after=format_datetime(not_before, usegmt=True)))
    response = client.responses.create(model=MODEL, input="dated")
    assert response.status == "completed"
    assert len(upstream.arrivals) == 2
    # The clock's second may have turned since: the wait ends at the date, not before.
    assert upstream.arrivals[1] >= not_before.timestamp() - 0.05


def test_retries_end_after_the_configured_attempts(
    client: openai.OpenAI, retry_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(busy(429), busy(429), busy(429), Reply(content=["never sent"]))
    with pytest.raises(openai.RateLimitError) as caught:
        client.responses.create(model=MODEL, input="too much")
    assert caught.value.response.json()["error"]["message"].endswith("rate limited")
    assert len(upstream.requests) == 3
    newest = httpx.get(f"{retry_server}/responses", params={"limit": 1}).json()["data"][0]
    assert newest["status"] == "failed"
    upstream.reset()  # the unused fourth reply


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(busy(503, retry_after="3600"), Reply(content=["never sent"]))
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=MODEL, input="come back in an hour")
    assert caught.value.status_code == 502
    assert "overloaded" in caught.value.response.json()["error"]["message"]
    assert len(upstream.requests) == 1
    upstream.reset()


def test_one_attempt_means_no_retry(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(busy(429, retry_after="0"), Reply(content=["never sent"]))
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=ONCE, input="no second chance")
    assert len(upstream.requests) == 1
    upstream.reset()


def test_other_failures_are_not_retried(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(Reply(status=500, error_body={"error": {"message": "broken"}}))
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model=MODEL, input="broken")
    upstream.queue(Reply(status=400, error_body={"error": {"message": "bad"}}))
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="bad")
    assert len(upstream.requests) == 2


def test_a_stream_that_breaks_after_output_is_not_called_again(
    retry_server: str, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["partial", " answer", " here"], break_after=2))
    events = stream_events(retry_server, {"model": MODEL, "input": "break"})
    check_stream_contract(events)
    assert events[-1]["type"] == "response.failed"
    assert any(event["type"] == "response.output_text.delta" for event in events)
    assert len(upstream.requests) == 1


def test_chat_completions_are_retried_too(retry_server: str, upstream: MockUpstream) -> None:
    messages = [{"role": "user", "content": "hi"}]
    upstream.queue(busy(429, retry_after="0"), Reply(content=["plain"]))
    upstream.queue(busy(503, retry_after="0"), Reply(content=["streamed"]))
    with httpx.Client(base_url=retry_server, timeout=30) as http:
        plain = http.post("/chat/completions", json={"model": MODEL, "messages": messages})
        streamed = http.post(
            "/chat/completions", json={"model": MODEL, "messages": messages, "stream": True}
        )
    assert plain.status_code == 200, plain.text
    assert plain.json()["choices"][0]["message"]["content"] == "plain"
    assert streamed.status_code == 200, streamed.text
    assert '"streamed"' in streamed.text
    assert len(upstream.requests) == 4


# ----- the schedule itself ---------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds(" 1.5 ", now) == 1.5
    assert retry_after_seconds("-3", now) == 0.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_backoff_grows_within_its_ceiling_and_stops_at_the_budget() -> None:
    config = RetryConfig(attempts=10, initial_backoff=1, max_backoff=4, budget=9)
    schedule = RetrySchedule(config, rng=random.Random(7))
    waits = []
    while (wait := schedule.next_wait(503, None)) is not None:
        waits.append(wait)
    ceilings = [1, 2, 4, 4, 4, 4, 4, 4, 4]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=False))
    assert sum(waits) <= 9
    assert len(waits) < 9  # the budget ended it, not the attempts


def test_only_429_and_503_are_retried() -> None:
    for status in (400, 401, 404, 500, 502, 504):
        assert RetrySchedule(RetryConfig()).next_wait(status, "0") is None
    assert RetrySchedule(RetryConfig()).next_wait(429, "0") == 0.0


def test_the_retry_config_is_checked() -> None:
    with pytest.raises(ValueError):
        RetryConfig(attempts=0)
    with pytest.raises(ValueError):
        RetryConfig.model_validate({"attempts": 2, "backof": 1})

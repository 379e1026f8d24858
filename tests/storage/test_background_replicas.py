"""Background responses on two ``relaystack serve`` processes sharing PostgreSQL: a
stream read on one replica while the other runs the turn, a cancel from the other
replica, and a replica killed with SIGKILL in the middle of a turn."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.storage.test_background import MODEL, wait_for_status, wait_until_ended
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import free_port
from tests.support.stack import ServeProcess, stack_settings, write_config

LEASE_SECONDS = 2.0


@pytest.fixture
def replica_config(upstream: MockUpstream, fresh_postgres_url: str, tmp_path: Path) -> Path:
    settings = stack_settings(
        upstream.base_url,
        fresh_postgres_url,
        # Polls for events so rare that only PostgreSQL's NOTIFY can keep streams live.
        background={"lease_seconds": LEASE_SECONDS, "poll_interval": 0.1, "follow_interval": 60},
    )
    return write_config(tmp_path / "relaystack.yaml", settings)


@pytest.fixture
def start_replica(replica_config: Path, tmp_path: Path) -> Iterator[Any]:
    started: list[ServeProcess] = []

    def start(name: str) -> tuple[ServeProcess, openai.OpenAI]:
        process = ServeProcess(replica_config, free_port(), tmp_path / f"replica-{name}.log")
        started.append(process)
        process.wait_ready()
        client = openai.OpenAI(base_url=process.url, api_key="sk-unused", max_retries=0)
        return process, client

    yield start
    for process in started:
        process.stop()


def test_a_turn_on_one_replica_is_followed_and_cancelled_from_the_other(
    start_replica: Any, upstream: MockUpstream
) -> None:
    _, a = start_replica("a")
    _, b = start_replica("b")
    upstream.queue(Reply(content=["one", " two", " three"], delay=0.1))
    queued = a.responses.create(model=MODEL, input="count", background=True)
    # B streams it from the first event, live, while a replica runs it: woken by the
    # runner's notifications (a poll would come only after a minute).
    started = time.monotonic()
    events = list(b.responses.retrieve(queued.id, stream=True))
    assert time.monotonic() - started < 30
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "one two three"
    assert a.responses.retrieve(queued.id).output_text == "one two three"

    upstream.queue(Reply(content=[f"t{i} " for i in range(300)], delay=0.05))
    long = a.responses.create(model=MODEL, input="long", background=True)
    wait_for_status(b, long.id, "in_progress")
    time.sleep(0.3)
    cancelled = b.responses.cancel(long.id)
    assert cancelled.status == "cancelled"
    assert 0 < len(cancelled.output_text.split()) < 300
    assert a.responses.retrieve(long.id).status == "cancelled"


def test_a_replica_killed_mid_turn_ends_it_failed_and_the_other_serves_the_rest(
    start_replica: Any, upstream: MockUpstream
) -> None:
    replica_a, a = start_replica("a")
    upstream.queue(Reply(content=[f"w{i} " for i in range(400)], delay=0.05))
    stream = a.responses.create(model=MODEL, input="a long story", background=True, stream=True)
    seen = []
    for event in stream:
        seen.append(event)
        if event.type == "response.output_text.delta" and len(seen) > 8:
            break
    response_id = seen[0].response.id  # type: ignore[union-attr]

    _, b = start_replica("b")  # A runs the turn: B was not there to take it
    assert b.responses.retrieve(response_id).status == "in_progress"
    replica_a.process.kill()  # SIGKILL: no shutdown, no last flush
    replica_a.process.wait(timeout=10)

    # B reads the rest from where the client was, to the end: the events A had
    # logged, then response.failed once A's lease has expired.
    started = time.monotonic()
    rest = list(
        b.responses.retrieve(response_id, stream=True, starting_after=seen[-1].sequence_number)
    )
    assert time.monotonic() - started < LEASE_SECONDS * 5
    numbers = [event.sequence_number for event in [*seen, *rest]]
    assert numbers == list(range(len(numbers)))
    assert rest[-1].type == "response.failed"
    assert "stopped before it finished" in rest[-1].response.error.message  # type: ignore[union-attr]
    final = wait_until_ended(b, response_id)
    assert final.status == "failed"
    assert final.error is not None and final.error.code == "server_error"

"""Background responses over HTTP with the openai SDK, on SQLite and on PostgreSQL:
queued at once, run by the server's workers, polled, streamed, resumed and cancelled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from relaystack.app import build_app
from tests.support.mcp_fixtures import McpServers
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.spec import assert_valid_event, assert_valid_response
from tests.support.sse import parse_frames
from tests.support.stack import stack_config

MODEL = "openai/gpt-4o"
ENDED = {"completed", "incomplete", "failed", "cancelled"}


def wait_until_ended(client: openai.OpenAI, response_id: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        response = client.responses.retrieve(response_id)
        if response.status in ENDED or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


def raw(client: openai.OpenAI, response_id: str) -> dict[str, Any]:
    """The response's JSON as served (the SDK's models add fields of their own)."""
    answer = httpx.get(f"{client.base_url}responses/{response_id}")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def wait_for_status(client: openai.OpenAI, response_id: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while client.responses.retrieve(response_id).status != status:
        assert time.monotonic() < deadline, f"never {status}"
        time.sleep(0.02)


def test_a_background_response_is_queued_then_completed(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    queued = client.responses.create(model=MODEL, input="hello in the background", background=True)
    assert queued.status in ("queued", "in_progress")
    assert queued.background is True
    assert queued.output == []
    assert_valid_response(raw(client, queued.id))

    done = wait_until_ended(client, queued.id)
    assert done.status == "completed"
    assert done.output_text == "echo: hello in the background"
    assert done.background is True
    assert done.created_at == queued.created_at
    assert_valid_response(raw(client, queued.id))
    # The input was stored at submission and is listed as a foreground one is.
    items = client.responses.input_items.list(queued.id).data
    assert [item.content[0].text for item in items] == ["hello in the background"]
    # Chaining from it works as from any stored response.
    second = client.responses.create(
        model=MODEL, input="and again", previous_response_id=queued.id, background=True
    )
    assert wait_until_ended(client, second.id).output_text == "echo: and again"
    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "hello in the background",
        "echo: hello in the background",
        "and again",
    ]


def test_the_queued_answer_does_not_wait_for_the_upstream(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["slow", " answer"], delay=1.0))
    started = time.monotonic()
    queued = client.responses.create(model=MODEL, input="take your time", background=True)
    assert time.monotonic() - started < 0.8  # the upstream needs at least 2 s
    assert queued.status in ("queued", "in_progress")
    wait_for_status(client, queued.id, "in_progress")
    assert wait_until_ended(client, queued.id).output_text == "slow answer"


def test_background_with_store_false_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="x", background=True, store=False)
    assert caught.value.body["param"] == "background"  # type: ignore[index]


def test_a_failing_upstream_ends_the_response_failed(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(status=500, error_body={"error": {"message": "boom"}}))
    queued = client.responses.create(model=MODEL, input="fail please", background=True)
    done = wait_until_ended(client, queued.id)
    assert done.status == "failed"
    assert done.error is not None and done.error.message


def test_a_background_stream_has_every_event_and_resumes_anywhere(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=["one", " two", " three", " four"], delay=0.05))
    stream = client.responses.create(model=MODEL, input="count", background=True, stream=True)
    events = [event.model_dump(mode="json") for event in stream]
    numbers = [event["sequence_number"] for event in events]
    assert numbers == list(range(len(events)))
    assert [e["type"] for e in events[:3]] == [
        "response.created",
        "response.queued",
        "response.in_progress",
    ]
    assert events[0]["response"]["status"] == "queued"
    assert events[-1]["type"] == "response.completed"
    response_id = events[0]["response"]["id"]
    # The events as served (the SDK's models add fields of their own) follow the spec.
    served = httpx.get(f"{client.base_url}responses/{response_id}?stream=true")
    frames = parse_frames(served.text)
    assert [frame.data["sequence_number"] for frame in frames] == numbers
    for frame in frames:
        assert frame.event == frame.data["type"]
        assert_valid_event(frame.data)
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == "one two three four"

    # Read again after it ended: from the start, and after any event.
    again = client.responses.retrieve(response_id, stream=True)
    assert [event.model_dump(mode="json") for event in again] == events
    for cut in (0, 4, len(events) - 2):
        resumed = client.responses.retrieve(response_id, stream=True, starting_after=cut)
        assert [event.model_dump(mode="json") for event in resumed] == events[cut + 1 :]


def test_a_client_leaving_the_stream_does_not_stop_the_work(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=[f"w{i} " for i in range(12)], delay=0.05))
    stream = client.responses.create(model=MODEL, input="go on", background=True, stream=True)
    seen = []
    for event in stream:
        seen.append(event)
        if event.type == "response.output_text.delta":
            break
    stream.close()
    response_id = seen[0].response.id  # type: ignore[union-attr]
    # Follow again from the last event seen, live, to the end.
    rest = list(
        client.responses.retrieve(response_id, stream=True, starting_after=seen[-1].sequence_number)
    )
    assert rest[0].sequence_number == seen[-1].sequence_number + 1
    assert rest[-1].type == "response.completed"
    text = "".join(e.delta for e in [*seen, *rest] if e.type == "response.output_text.delta")
    assert text == "".join(f"w{i} " for i in range(12))
    assert client.responses.retrieve(response_id).output_text == text


def test_cancel_a_running_response(client: openai.OpenAI, upstream: MockUpstream) -> None:
    upstream.queue(Reply(content=[f"t{i} " for i in range(200)], delay=0.05))
    queued = client.responses.create(model=MODEL, input="long", background=True)
    wait_for_status(client, queued.id, "in_progress")
    cancelled = client.responses.cancel(queued.id)
    assert cancelled.status == "cancelled"
    assert_valid_response(raw(client, queued.id))
    # Idempotent, and it stays cancelled: the upstream call was stopped.
    assert client.responses.cancel(queued.id).status == "cancelled"
    time.sleep(0.3)
    assert client.responses.retrieve(queued.id).status == "cancelled"
    # A stream read after the cancel replays what there was and ends.
    events = list(client.responses.retrieve(queued.id, stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type != "response.completed"


def test_cancel_errors(client: openai.OpenAI, alice: openai.OpenAI, bob: openai.OpenAI) -> None:
    foreground = client.responses.create(model=MODEL, input="sync")
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.cancel(foreground.id)
    assert caught.value.body["message"] == "Cannot cancel a synchronous response."  # type: ignore[index]

    finished = client.responses.create(model=MODEL, input="bg", background=True)
    assert wait_until_ended(client, finished.id).status == "completed"
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.cancel(finished.id)
    assert "already completed" in caught.value.body["message"]  # type: ignore[index]

    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_missing")
    mine = alice.responses.create(model=MODEL, input="alice's", background=True)
    with pytest.raises(openai.NotFoundError):
        bob.responses.cancel(mine.id)
    with pytest.raises(openai.NotFoundError):
        list(bob.responses.retrieve(mine.id, stream=True))


def test_streaming_a_foreground_response_again_is_a_400(
    client: openai.OpenAI, backend_server: str
) -> None:
    foreground = client.responses.create(model=MODEL, input="sync")
    answer = httpx.get(f"{backend_server}/responses/{foreground.id}?stream=true")
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "stream"
    bad = httpx.get(f"{backend_server}/responses/{foreground.id}?stream=true&starting_after=x")
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "starting_after"


def test_background_turns_join_a_conversation(client: openai.OpenAI) -> None:
    conversation = client.conversations.create()
    queued = client.responses.create(
        model=MODEL, input="in a conversation", conversation=conversation.id, background=True
    )
    assert wait_until_ended(client, queued.id).status == "completed"
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [item.content[0].text for item in items] == [  # type: ignore[union-attr]
        "in a conversation",
        "echo: in a conversation",
    ]


@pytest.fixture
def one_worker(upstream: MockUpstream, tmp_path: Path) -> Iterator[openai.OpenAI]:
    """A server that runs one background turn at a time and queues one more."""
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'one.db'}",
        background={"concurrency": 1, "max_queued": 1},
    )
    with ServerThread(build_app(config)) as thread:
        yield openai.OpenAI(base_url=f"{thread.url}/v1", api_key="sk-unused", max_retries=0)


def test_a_full_queue_is_a_503_and_a_queued_job_cancels_at_once(
    one_worker: openai.OpenAI, upstream: MockUpstream
) -> None:
    upstream.queue(Reply(content=[f"t{i} " for i in range(400)], delay=0.05))
    running = one_worker.responses.create(model=MODEL, input="first", background=True)
    wait_for_status(one_worker, running.id, "in_progress")
    waiting = one_worker.responses.create(model=MODEL, input="second", background=True)
    assert one_worker.responses.retrieve(waiting.id).status == "queued"
    with pytest.raises(openai.InternalServerError) as caught:
        one_worker.responses.create(model=MODEL, input="third", background=True)
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "server_overloaded"  # type: ignore[index]

    cancelled = one_worker.responses.cancel(waiting.id)
    assert cancelled.status == "cancelled"
    assert cancelled.output == []
    # A stream of a cancelled queued response replays its two events and ends.
    events = list(one_worker.responses.retrieve(waiting.id, stream=True))
    assert [event.type for event in events] == ["response.created", "response.queued"]
    # The running one is cancelled with what it had generated so far.
    stopped = one_worker.responses.cancel(running.id)
    assert stopped.status == "cancelled"
    generated = stopped.output_text.split()
    assert generated == [f"t{i}" for i in range(len(generated))]
    assert len(generated) < 400
    # The queue has room again, and the worker is free.
    again = one_worker.responses.create(model=MODEL, input="fourth", background=True)
    assert wait_until_ended(one_worker, again.id).output_text == "echo: fourth"
    assert one_worker.responses.retrieve(waiting.id).status == "cancelled"


def test_tools_and_options_run_as_in_the_foreground(
    client: openai.OpenAI, upstream: MockUpstream, mcp: McpServers
) -> None:
    """The stored request is what the worker runs: a server-side MCP call, a client
    function tool offered beside it, a JSON schema format and instructions."""
    function = {
        "type": "function",
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    schema = {"type": "object", "properties": {"sum": {"type": "integer"}}}
    upstream.queue(
        Reply(tool_calls=[{"id": "c1", "name": "add", "arguments": '{"a": 1, "b": 2}'}]),
        Reply(content=['{"sum": 3}']),
    )
    queued = client.responses.create(
        model=MODEL,
        input="1+2?",
        instructions="Add.",
        tools=[
            {
                "type": "mcp",
                "server_label": "calc",
                "server_url": mcp.http_url,
                "require_approval": "never",
            },
            function,  # type: ignore[list-item]
        ],
        text={"format": {"type": "json_schema", "name": "sum", "schema": schema}},
        metadata={"job": "bg"},
        background=True,
    )
    done = wait_until_ended(client, queued.id)
    assert done.status == "completed", done.error
    assert [item.type for item in done.output] == ["mcp_list_tools", "mcp_call", "message"]
    assert done.output_text == '{"sum": 3}'
    assert done.metadata == {"job": "bg"}
    first_call = upstream.requests[-2]
    assert first_call["messages"][0] == {"role": "system", "content": "Add."}
    assert {tool["function"]["name"] for tool in first_call["tools"]} >= {"add", "lookup"}
    assert first_call["response_format"]["json_schema"]["schema"] == schema

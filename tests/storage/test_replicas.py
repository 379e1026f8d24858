"""Two ``relaystack serve`` processes on one PostgreSQL database behave as one service."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from tests.support.mock_upstream import MockUpstream
from tests.support.servers import free_port
from tests.support.stack import ServeProcess, stack_settings, write_config

TURNS_PER_REPLICA = 20


@pytest.fixture
def replicas(
    upstream: MockUpstream, fresh_postgres_url: str, tmp_path: Path
) -> Iterator[tuple[openai.OpenAI, openai.OpenAI]]:
    config = write_config(
        tmp_path / "relaystack.yaml", stack_settings(upstream.base_url, fresh_postgres_url)
    )
    # Both start at once on an empty database: the migrations race is part of the test.
    processes = [
        ServeProcess(config, free_port(), tmp_path / f"replica-{name}.log") for name in "ab"
    ]
    try:
        for process in processes:
            process.wait_ready()
        yield tuple(  # type: ignore[misc]
            openai.OpenAI(base_url=process.url, api_key="sk-unused", max_retries=0, timeout=60)
            for process in processes
        )
    finally:
        for process in processes:
            process.stop()


def test_a_response_made_on_one_replica_is_chained_and_deleted_on_the_other(
    replicas: tuple[openai.OpenAI, openai.OpenAI], upstream: MockUpstream
) -> None:
    a, b = replicas
    first = a.responses.create(model="openai/gpt-4o", input="remember 7")
    assert b.responses.retrieve(first.id).output_text == "echo: remember 7"
    second = b.responses.create(
        model="openai/gpt-4o", input="what number?", previous_response_id=first.id
    )
    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "remember 7",
        "echo: remember 7",
        "what number?",
    ]
    assert a.responses.retrieve(second.id).previous_response_id == first.id
    assert [i.content[0].text for i in a.responses.input_items.list(second.id).data] == [
        "what number?"
    ]
    # A chains a third turn, so it remembers the whole chain; then B deletes the first
    # turn. A's memory must not outlive B's delete.
    third = a.responses.create(
        model="openai/gpt-4o", input="and now?", previous_response_id=second.id
    )
    b.responses.delete(first.id)
    a.responses.create(model="openai/gpt-4o", input="last", previous_response_id=third.id)
    assert [m["content"] for m in upstream.requests[-1]["messages"]] == [
        "what number?",
        "echo: what number?",
        "and now?",
        "echo: and now?",
        "last",
    ]
    with pytest.raises(openai.NotFoundError):
        a.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        a.responses.create(model="openai/gpt-4o", input="again?", previous_response_id=first.id)


def test_concurrent_turns_from_both_replicas_keep_one_order(
    replicas: tuple[openai.OpenAI, openai.OpenAI],
) -> None:
    a, b = replicas
    conversation = a.conversations.create(metadata={"shared": "yes"})
    assert b.conversations.retrieve(conversation.id).metadata == {"shared": "yes"}

    def turn(client: openai.OpenAI, text: str) -> str:
        response = client.responses.create(
            model="openai/gpt-4o", input=text, conversation=conversation.id
        )
        assert response.status == "completed"
        return response.id

    # Interleaved submissions, many in flight at once on each replica.
    jobs = [
        (client, f"{name}-{i}")
        for i in range(TURNS_PER_REPLICA)
        for client, name in ((a, "A"), (b, "B"))
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        response_ids = list(pool.map(lambda job: turn(*job), jobs))
    assert len(set(response_ids)) == len(jobs)

    seen_from_a = list(a.conversations.items.list(conversation.id, order="asc", limit=100))
    seen_from_b = list(b.conversations.items.list(conversation.id, order="asc", limit=7))
    assert [item.id for item in seen_from_a] == [item.id for item in seen_from_b]
    ids = [item.id for item in seen_from_a]
    assert len(ids) == 2 * len(jobs) and len(set(ids)) == len(ids)

    texts = [item.content[0].text for item in seen_from_a]
    # Each turn's input and output sit together, input first: appends never interleave.
    inputs = texts[0::2]
    assert sorted(inputs) == sorted(text for _, text in jobs)
    assert texts[1::2] == [f"echo: {text}" for text in inputs]
    assert [item.role for item in seen_from_a] == ["user", "assistant"] * len(jobs)
    # Newest first is the exact reverse, from either replica.
    newest_first = list(b.conversations.items.list(conversation.id, limit=100))
    assert [item.id for item in newest_first] == ids[::-1]

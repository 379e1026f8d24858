"""The model's one worker thread: off the event loop, FIFO, bounded, cancellable."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from relaystack.errors import Overloaded
from relaystack.inference.local.provider import LocalProvider
from tests.local.support import chat

LONG = "Write a very long and detailed essay about the history of the Roman Empire."


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_two_concurrent_requests_both_complete(provider: LocalProvider) -> None:
    first, second = await asyncio.gather(
        provider.chat_completion(chat("Say hello.", max_completion_tokens=12)),
        provider.chat_completion(chat("Say goodbye.", max_completion_tokens=12)),
    )
    for result in (first, second):
        assert result["choices"][0]["message"]["content"].strip()
        assert result["usage"]["completion_tokens"] >= 1


async def test_requests_are_served_in_arrival_order(provider: LocalProvider) -> None:
    finished: list[int] = []

    async def ask(index: int) -> None:
        await provider.chat_completion(chat(f"Count to {index}.", max_completion_tokens=8))
        finished.append(index)

    tasks = []
    for index in range(4):
        tasks.append(asyncio.create_task(ask(index)))
        await asyncio.sleep(0)  # let it take its place in the line
    await asyncio.gather(*tasks)
    assert finished == [0, 1, 2, 3]


async def test_event_loop_stays_responsive_while_generating(provider: LocalProvider) -> None:
    task = asyncio.create_task(provider.chat_completion(chat(LONG, max_completion_tokens=60)))
    ticks = 0
    while not task.done():
        await asyncio.sleep(0.005)
        ticks += 1
    assert (await task)["usage"]["completion_tokens"] == 60
    # Generation ran beside the loop, which kept turning: had it run on the loop, this
    # would count one or two ticks, however slow or fast the machine.
    assert ticks >= 10


async def test_closing_a_stream_frees_the_model(provider: LocalProvider) -> None:
    chunks = provider.stream_chat_completion(chat(LONG, max_completion_tokens=1500))
    seen = [await anext(chunks) for _ in range(3)]
    assert seen[2]["choices"][0]["delta"].get("content") is not None
    await chunks.aclose()

    # The worker lets go long before 1500 tokens could have been generated (tens of
    # seconds here); the bound is a generous liveness check, not a speed measurement.
    await wait_for(lambda: not provider._worker.busy, timeout=10.0)
    result = await provider.chat_completion(chat("Say hi.", max_completion_tokens=5))
    assert result["usage"]["completion_tokens"] >= 1


async def test_cancelling_the_reading_task_frees_the_model(provider: LocalProvider) -> None:
    got_chunk = asyncio.Event()

    async def read() -> None:
        async for _ in provider.stream_chat_completion(chat(LONG, max_completion_tokens=1500)):
            got_chunk.set()

    reader = asyncio.create_task(read())
    await asyncio.wait_for(got_chunk.wait(), 10)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await wait_for(lambda: not provider._worker.busy, timeout=10.0)


async def test_full_queue_is_overloaded(make_provider: Any) -> None:
    local = make_provider(max_queue=1)
    running = local.stream_chat_completion(chat(LONG, max_completion_tokens=1500))
    await anext(running)  # the first request holds the model
    waiting = asyncio.create_task(local.chat_completion(chat("Hi", max_completion_tokens=4)))
    await wait_for(lambda: local._worker.waiting == 1)

    with pytest.raises(Overloaded) as caught:
        await local.chat_completion(chat("Hi", max_completion_tokens=4))
    assert caught.value.status_code == 503
    with pytest.raises(Overloaded):
        await local.embeddings({"input": "hi"})

    await running.aclose()  # the running request goes; the waiting one gets the model
    assert (await waiting)["usage"]["completion_tokens"] >= 1
    assert (await local.chat_completion(chat("Hi", max_completion_tokens=4)))["choices"]


async def test_no_queue_allows_one_at_a_time(make_provider: Any) -> None:
    local = make_provider(max_queue=0)
    running = local.stream_chat_completion(chat(LONG, max_completion_tokens=1500))
    await anext(running)
    with pytest.raises(Overloaded):
        await local.chat_completion(chat("Hi", max_completion_tokens=4))
    await running.aclose()


async def test_a_waiting_request_that_leaves_frees_its_place(make_provider: Any) -> None:
    local = make_provider(max_queue=1)
    running = local.stream_chat_completion(chat(LONG, max_completion_tokens=1500))
    await anext(running)
    waiting = asyncio.create_task(local.chat_completion(chat("Hi", max_completion_tokens=4)))
    await wait_for(lambda: local._worker.waiting == 1)
    waiting.cancel()
    await wait_for(lambda: local._worker.waiting == 0)
    replacement = asyncio.create_task(local.chat_completion(chat("Hi", max_completion_tokens=4)))
    await wait_for(lambda: local._worker.waiting == 1)
    await running.aclose()
    assert (await replacement)["choices"]


async def test_closed_provider_refuses_work(make_provider: Any) -> None:
    local = make_provider()
    assert (await local.chat_completion(chat("Hi", max_completion_tokens=2)))["choices"]
    await local.aclose()
    with pytest.raises(Overloaded):
        await local.chat_completion(chat("Hi", max_completion_tokens=2))

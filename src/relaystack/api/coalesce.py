"""Send together the stream frames that are ready together.

An upstream read often carries dozens of chunks, and each became one ASGI send and one
socket write: the biggest single cost of a streamed turn (bench profile). Here the
frames after the first are produced by a task of their own; whenever the writer gets
its turn it sends everything produced meanwhile as one body chunk. A frame is never
held back waiting for more, and the first is sent at once, so time to first byte does
not change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


async def coalesced(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    # The first frame goes straight out: no task hop before the first byte.
    first = await anext(frames, None)
    if first is None:
        return
    yield first
    ready: list[bytes] = []
    wake = asyncio.Event()
    failure: list[BaseException] = []

    async def produce() -> None:
        try:
            async for frame in frames:
                ready.append(frame)
                wake.set()
        except Exception as exc:  # re-raised in the writer, where the response fails
            failure.append(exc)
        finally:
            wake.set()

    producer = asyncio.get_running_loop().create_task(produce())
    try:
        while True:
            await wake.wait()
            wake.clear()
            if ready:
                body = b"".join(ready)
                ready.clear()
                yield body
            if producer.done() and not ready:
                break
        if failure:
            raise failure[0]
    finally:
        # The client left (or the writer failed): stop producing, so the turn is
        # cancelled and recorded as such.
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

"""Streamed answers in recordings: an SSE body to its chunks, and chunks back to a body.

A stream is recorded as its list of JSON chunks (event names and comments are not
part of the format) and replayed as ``data: {json}\\n\\n`` per chunk then
``data: [DONE]\\n\\n``, which is how OpenAI-compatible servers frame chat chunks
(other streams, MCP's, replay without the marker).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from relaystack.wire.json import loads_lenient
from relaystack.wire.sse import DONE_FRAME, data_frame, payloads


def parse_events(raw: bytes) -> list[Any]:
    """The JSON payloads of a complete SSE body, in order."""
    return [loads_lenient(payload) for payload in payloads(raw)]


class ReplayedStreamBody(httpx.AsyncByteStream):
    """Replays chunks as an SSE body; ``pacing`` seconds between chunks if asked."""

    def __init__(self, chunks: list[Any], pacing: float = 0.0, *, done: bool = True) -> None:
        self._chunks = chunks
        self._pacing = pacing
        self._done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self._chunks):
            if self._pacing > 0 and i:
                await asyncio.sleep(self._pacing)
            yield data_frame(chunk)
        if self._done:
            yield DONE_FRAME

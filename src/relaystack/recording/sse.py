"""Server-sent events: parse an upstream stream into chunks, frame chunks back.

A stream is recorded as its list of JSON chunks (event names and comments are not
part of the format) and replayed as ``data: {json}\\n\\n`` per chunk then
``data: [DONE]\\n\\n``, which is how OpenAI-compatible servers frame chat chunks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from relaystack.wire.json import dumps, loads_lenient

DONE = "[DONE]"


def parse_events(raw: bytes) -> list[Any]:
    """The JSON payloads of the ``data:`` fields of a complete SSE body, in order."""
    text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    chunks: list[Any] = []
    for event in text.split("\n\n"):
        data_lines = [
            line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:")
        ]
        if not data_lines:
            continue
        data = "\n".join(data_lines)
        if data.strip() == DONE:
            continue
        chunks.append(loads_lenient(data))
    return chunks


def frame(chunk: Any) -> bytes:
    return b"data: " + dumps(chunk) + b"\n\n"


class ChunkStream(httpx.AsyncByteStream):
    """Replays chunks as an SSE body; ``pacing`` seconds between chunks if asked."""

    def __init__(self, chunks: list[Any], pacing: float = 0.0) -> None:
        self._chunks = chunks
        self._pacing = pacing

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self._chunks):
            if self._pacing > 0 and i:
                await asyncio.sleep(self._pacing)
            yield frame(chunk)
        yield b"data: " + DONE.encode() + b"\n\n"

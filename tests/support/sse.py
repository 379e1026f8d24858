"""Raw server-sent events over httpx, so the framing itself can be checked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Frame:
    event: str | None  # the ``event:`` line, if any
    data: Any  # the parsed ``data:`` payload (or the raw string if it is not JSON)


def parse_frames(text: str) -> list[Frame]:
    frames: list[Frame] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event: str | None = None
        data_lines: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data_lines.append(line[len("data:") :].removeprefix(" "))
        raw = "\n".join(data_lines)
        try:
            data: Any = json.loads(raw)
        except ValueError:
            data = raw
        frames.append(Frame(event=event, data=data))
    return frames


def post_stream(
    base_url: str, path: str, body: dict[str, Any]
) -> tuple[httpx.Response, list[Frame]]:
    """POST with ``stream: true`` and return the response and every SSE frame it sent."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        response = http.post(path, json={**body, "stream": True})
    return response, parse_frames(response.text)


def stream_events(base_url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Stream a response and return its events (``[DONE]`` last, not one of them),
    after checking the SSE framing."""
    response, frames = post_stream(base_url, "/responses", body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert frames and frames[-1].data == "[DONE]", "a Responses stream ends with data: [DONE]"
    events: list[dict[str, Any]] = []
    for frame in frames[:-1]:
        assert isinstance(frame.data, dict), f"a frame's data is not a JSON object: {frame.data!r}"
        assert frame.event == frame.data.get("type"), (
            f"event line {frame.event!r} differs from the data type {frame.data.get('type')!r}"
        )
        events.append(frame.data)
    return events

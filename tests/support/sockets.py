"""A Responses WebSocket client for tests: the ``websockets`` library's, on a real socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

ENDINGS = {"response.completed", "response.failed", "response.incomplete", "error"}


def socket_url(base_url: str) -> str:
    """``http://host:port/v1`` -> ``ws://host:port/v1/responses``."""
    return base_url.replace("http://", "ws://", 1) + "/responses"


@contextmanager
def responses_socket(base_url: str, key: str | None = None) -> Iterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {key}"} if key else None
    with connect(socket_url(base_url), additional_headers=headers, open_timeout=10) as socket:
        yield socket


def receive_turn(socket: ClientConnection) -> list[dict[str, Any]]:
    """Every message up to the turn's ending (a terminal event or an ``error``)."""
    events: list[dict[str, Any]] = []
    while True:
        message = socket.recv(timeout=30)
        assert isinstance(message, str), "events arrive as text messages"
        events.append(json.loads(message))
        if events[-1]["type"] in ENDINGS:
            return events


def turn(socket: ClientConnection, **body: Any) -> list[dict[str, Any]]:
    """Send one ``response.create`` and return its events."""
    socket.send(json.dumps({"type": "response.create", **body}))
    return receive_turn(socket)

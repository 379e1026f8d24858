"""The fault-injection suite (``make faults``): real ``relaystack serve`` processes with
something broken underneath them. Each case checks two things: the client got a clear
error or a whole answer, and the store holds exactly what was answered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port
from tests.support.stack import ServeProcess, write_config


@contextmanager
def serving(directory: Path, settings: dict[str, Any], *args: str) -> Iterator[ServeProcess]:
    """A ``relaystack serve`` process for ``settings``, ready, stopped afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory / "config.yaml", settings)
    process = ServeProcess(config, free_port(), directory / "serve.log", *args)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def stored(base_url: str, response_id: str) -> dict[str, Any] | None:
    """The stored response, or None when the store has none by that id."""
    reply = httpx.get(f"{base_url}/responses/{response_id}", timeout=30)
    if reply.status_code == 404:
        return None
    assert reply.status_code == 200, reply.text
    return reply.json()


def all_stored(base_url: str) -> dict[str, dict[str, Any]]:
    """Every stored response by id, a page of 100 at a time."""
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = httpx.get(f"{base_url}/responses", params=params, timeout=30).json()
        found.update((response["id"], response) for response in page["data"])
        if not page["has_more"]:
            return found
        params["after"] = page["last_id"]


def newest(base_url: str) -> dict[str, Any] | None:
    data = httpx.get(f"{base_url}/responses", params={"limit": 1}, timeout=30).json()["data"]
    return data[0] if data else None


def conversation_items(base_url: str, conversation_id: str) -> list[dict[str, Any]]:
    reply = httpx.get(
        f"{base_url}/conversations/{conversation_id}/items",
        params={"limit": 100, "order": "asc"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]


def new_conversation(base_url: str) -> str:
    reply = httpx.post(f"{base_url}/conversations", json={}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["id"]

"""``kill -9`` of a relaystack under load, then a restart on the same store: every turn
a client saw completed is there as it saw it, no response or conversation is
half-written, and the database is sound."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.faults.conftest import conversation_items, new_conversation, serving, stored
from tests.storage.conftest import require_postgres
from tests.support import postgres
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.spec import assert_valid_response
from tests.support.stack import stack_settings

MODEL = "openai/gpt-4o"
CLIENTS = 6


class Client(threading.Thread):
    """Streams turns into its own conversation until the server goes away; notes the id
    of every turn it started and the response of every turn it saw complete."""

    def __init__(self, base_url: str, conversation: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.conversation = conversation
        self.started: list[str] = []
        self.completed: list[dict[str, Any]] = []

    def run(self) -> None:
        with contextlib.suppress(httpx.HTTPError), httpx.Client(timeout=30) as http:
            for turn in range(1000):
                body = {
                    "model": MODEL,
                    "input": f"turn {turn}",
                    "conversation": self.conversation,
                    "stream": True,
                }
                with http.stream("POST", f"{self.base_url}/responses", json=body) as reply:
                    for line in reply.iter_lines():
                        if not line.startswith("data: ") or line == "data: [DONE]":
                            continue
                        event = json.loads(line[6:])
                        if event["type"] == "response.created":
                            self.started.append(event["response"]["id"])
                        elif event["type"] == "response.completed":
                            self.completed.append(event["response"])


def _kill_under_load(upstream: MockUpstream, directory: Path, storage_url: str) -> list[Client]:
    settings = stack_settings(upstream.base_url, storage_url)
    # Every answer trickles in, so turns are always mid-stream or mid-save.
    slow = Reply(content=["a", " steady", " answer"], delay=0.02)
    upstream.queue(*[slow] * 5000)
    with serving(directory / "first", settings) as process:
        clients = [Client(process.url, new_conversation(process.url)) for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while sum(len(c.completed) for c in clients) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.process.kill()  # SIGKILL, to our own child by its handle
        process.process.wait(timeout=10)
    for client in clients:
        client.join(timeout=30)
    upstream.reset()
    return clients


def _check_restart(
    upstream: MockUpstream, directory: Path, storage_url: str, clients: list[Client]
) -> None:
    settings = stack_settings(upstream.base_url, storage_url)
    assert sum(len(c.completed) for c in clients) >= 20
    assert any(len(c.started) > len(c.completed) for c in clients), "killed between turns"
    with serving(directory / "second", settings) as process:
        for client in clients:
            completed = {response["id"]: response for response in client.completed}
            whole = []
            for response_id in client.started:
                kept = stored(process.url, response_id)
                if response_id in completed:
                    assert kept is not None, f"{response_id} was answered, then lost"
                    assert kept["status"] == "completed"
                    assert kept["output"] == completed[response_id]["output"]
                if kept is not None:
                    # Killed between the save and the client's last event: whole anyway.
                    assert_valid_response(kept)
                    assert kept["status"] == "completed"
                    whole.append(kept)
            items = conversation_items(process.url, client.conversation)
            roles = [item["role"] for item in items]
            assert roles == ["user", "assistant"] * len(whole), "a half-written turn"
            texts = [item["content"][0]["text"] for item in items[::2]]
            assert len(set(texts)) == len(texts)


def test_kill_9_mid_write_on_sqlite(upstream: MockUpstream, tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    url = f"sqlite:///{database}"
    _check_restart(upstream, tmp_path, url, _kill_under_load(upstream, tmp_path, url))
    with contextlib.closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_kill_9_mid_write_on_postgres(upstream: MockUpstream, tmp_path: Path) -> None:
    require_postgres()
    name = postgres.create_database()
    try:
        url = postgres.storage_url(name)
        _check_restart(upstream, tmp_path, url, _kill_under_load(upstream, tmp_path, url))
    finally:
        postgres.drop_database(name)

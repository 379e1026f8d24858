"""The final save of a turn: when the database fails it, the client still hears a
proper ending (``response.failed``, or a 500 in the envelope) and the log shows no row
contents; when the client leaves during it, the turn is stored all the same."""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.sse import stream_events
from tests.support.stack import stack_config
from tests.test_errors import assert_envelope

MODEL = "openai/gpt-4o"
MIGRATION_LOCK = 0x72656C6179  # store/migrate.py's advisory lock
SECRET = "the-secret-words-7c1f"


def _postgres_dsn(storage_url: str) -> str:
    return storage_url.replace("postgresql+asyncpg://", "postgresql://")


def _break_items_table(storage_url: str) -> None:
    """What a failing database looks like from the server: its next insert fails."""
    if storage_url.startswith("sqlite"):
        with sqlite3.connect(storage_url.split(":///", 1)[1]) as database:
            database.execute("DROP TABLE response_items")
        return

    async def drop() -> None:
        connection = await asyncpg.connect(_postgres_dsn(storage_url))
        try:
            await connection.execute("DROP TABLE response_items")
        finally:
            await connection.close()

    asyncio.run(drop())


@pytest.fixture
def broken_server(upstream: MockUpstream, empty_storage_url: str) -> Iterator[str]:
    with ServerThread(build_app(stack_config(upstream.base_url, empty_storage_url))) as thread:
        _break_items_table(empty_storage_url)
        yield f"{thread.url}/v1"


def test_a_failed_save_ends_the_stream_with_response_failed(
    broken_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        events = stream_events(broken_server, {"model": MODEL, "input": SECRET})
    assert [event["type"] for event in events][:2] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert "could not be stored" in caplog.text
    assert SECRET not in caplog.text  # SQL parameters are hidden


def test_a_failed_save_answers_json_with_a_500(
    broken_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        reply = httpx.post(f"{broken_server}/responses", json={"model": MODEL, "input": SECRET})
    assert assert_envelope(reply, 500)["type"] == "server_error"
    assert SECRET not in reply.text
    assert SECRET not in caplog.text


# ----- a client leaving during the save (PostgreSQL: the cancellation reaches the driver)


class TableLock:
    """Holds ``LOCK TABLE responses`` (or the migration lock) in a transaction of its
    own until released."""

    def __init__(self, storage_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._connection: Any = self._run(asyncpg.connect(_postgres_dsn(storage_url)))

    def _run(self, work: Any) -> Any:
        return self._loop.run_until_complete(work)

    def take(self) -> None:
        self._run(self._connection.execute("BEGIN; LOCK TABLE responses IN ACCESS EXCLUSIVE MODE"))

    def hold_migration_lock(self) -> None:
        self._run(
            self._connection.execute(f"BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        )

    def wait_for_a_blocked_insert(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Statistics are a snapshot per transaction, and this one stays open.
            self._run(self._connection.execute("SELECT pg_stat_clear_snapshot()"))
            waiting = self._run(
                self._connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO responses%'"
                )
            )
            if waiting:
                return
            time.sleep(0.05)
        raise AssertionError("the save never reached the locked table")

    def release(self) -> None:
        self._run(self._connection.execute("ROLLBACK"))
        self._run(self._connection.close())
        self._loop.close()


def _stored(base_url: str, prompt: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for response in httpx.get(f"{base_url}/responses").json()["data"]:
            items = httpx.get(f"{base_url}/responses/{response['id']}/input_items").json()
            if items["data"][0]["content"][0]["text"] == prompt:
                return response
        time.sleep(0.1)
    raise AssertionError(f"no response with input {prompt!r} was stored")


@pytest.fixture
def postgres_server(upstream: MockUpstream, fresh_postgres_url: str) -> Iterator[tuple[str, str]]:
    with ServerThread(build_app(stack_config(upstream.base_url, fresh_postgres_url))) as thread:
        yield f"{thread.url}/v1", fresh_postgres_url


def test_a_json_client_leaving_during_the_save_leaves_the_turn_stored(
    postgres_server: tuple[str, str],
) -> None:
    base_url, storage_url = postgres_server
    lock = TableLock(storage_url)
    lock.take()
    try:
        host, port = base_url.removeprefix("http://").removesuffix("/v1").split(":")
        body = b'{"model": "openai/gpt-4o", "input": "kept after all"}'
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            lock.wait_for_a_blocked_insert()
        time.sleep(0.5)  # the server notices the disconnect and cancels the request
    finally:
        lock.release()
    assert _stored(base_url, "kept after all")["status"] == "completed"


def test_a_stream_client_leaving_during_the_save_leaves_the_turn_stored(
    postgres_server: tuple[str, str],
) -> None:
    base_url, storage_url = postgres_server
    lock = TableLock(storage_url)
    lock.take()
    try:
        body = {"model": MODEL, "input": "streamed and kept", "stream": True}
        with (
            httpx.Client(timeout=30) as client,
            client.stream("POST", f"{base_url}/responses", json=body) as reply,
        ):
            # Held, not left to the garbage collector: that would close the connection.
            lines = reply.iter_lines()
            for line in lines:
                if line.startswith("event: response.in_progress"):
                    break
            lock.wait_for_a_blocked_insert()
        time.sleep(0.5)
    finally:
        lock.release()
    assert _stored(base_url, "streamed and kept")["status"] == "completed"


def test_without_a_lock_the_same_turn_completes_and_is_stored(
    postgres_server: tuple[str, str],
) -> None:
    """Sanity: without a lock the same request completes and is stored at once."""
    base_url, _ = postgres_server
    events = stream_events(base_url, {"model": MODEL, "input": "plain"})
    assert events[-1]["type"] == "response.completed"
    assert _stored(base_url, "plain", timeout=5)["status"] == "completed"

"""PostgreSQL settings from ``storage:``: a statement that waits longer than
``statement_timeout`` fails instead of holding its request (and a pool connection)
indefinitely, while migrations, which may wait on another replica, are exempt."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from relaystack.app import build_app
from tests.storage.test_final_save import TableLock
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.stack import stack_config
from tests.test_errors import assert_envelope


@pytest.fixture
def impatient_server(upstream: MockUpstream, fresh_postgres_url: str) -> Iterator[tuple[str, str]]:
    storage = {"url": fresh_postgres_url, "statement_timeout": 0.5, "pool_size": 2}
    config = stack_config(upstream.base_url, fresh_postgres_url, storage=storage)
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1", fresh_postgres_url


def test_a_statement_past_its_timeout_fails_instead_of_waiting(
    impatient_server: tuple[str, str],
) -> None:
    base_url, storage_url = impatient_server
    lock = TableLock(storage_url)
    lock.take()
    try:
        # The lock is released only after the answer: an answer at all means the
        # statement was cut short by its timeout, not let through by the lock.
        reply = httpx.get(f"{base_url}/responses", timeout=60)
    finally:
        lock.release()
    assert_envelope(reply, 500)
    assert httpx.get(f"{base_url}/responses").status_code == 200


def test_start_up_waits_for_another_replicas_migration_past_the_timeout(
    upstream: MockUpstream, fresh_postgres_url: str
) -> None:
    """The migration lock is held (as by a replica migrating) for longer than the
    statement timeout: start-up waits for it rather than failing."""
    storage = {"url": fresh_postgres_url, "statement_timeout": 0.2}
    config = stack_config(upstream.base_url, fresh_postgres_url, storage=storage)
    holder = TableLock(fresh_postgres_url)
    holder.hold_migration_lock()
    releaser = threading.Timer(1.5, holder.release)
    releaser.start()
    try:
        with ServerThread(build_app(config)) as thread:
            reply = httpx.post(
                f"{thread.url}/v1/responses", json={"model": "openai/gpt-4o", "input": "hi"}
            )
    finally:
        releaser.join()
    assert reply.status_code == 200, reply.text

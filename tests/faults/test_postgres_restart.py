"""PostgreSQL restarts under load (a private server: the machine's shared one is never
touched): requests meanwhile get a clear 503, relaystack reconnects by itself, and every
turn it answered 200 is in the store."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.conftest import all_stored, serving
from tests.support.mock_upstream import MockUpstream
from tests.support.private_postgres import PrivatePostgres, binaries
from tests.support.stack import stack_settings

MODEL = "openai/gpt-4o"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if binaries() is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop()
        server.remove()


class Load(threading.Thread):
    """JSON turns one after another; notes each answer's status (and body)."""

    def __init__(self, base_url: str, name: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.name = name
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=60) as http:
            turn = 0
            while not self.stop.is_set():
                turn += 1
                body = {"model": MODEL, "input": f"{self.name} turn {turn}"}
                reply = http.post(f"{self.base_url}/responses", json=body)
                self.answers.append((reply.status_code, reply.json()))


def test_postgres_restarting_under_load(
    private_postgres: PrivatePostgres, upstream: MockUpstream, tmp_path: Path
) -> None:
    settings = stack_settings(
        upstream.base_url, private_postgres.url, storage={"url": private_postgres.url}
    )
    with serving(tmp_path / "serve", settings) as process:
        loads = [Load(process.url, f"client {n}") for n in range(4)]
        for load in loads:
            load.start()
        time.sleep(1.0)
        private_postgres.stop()
        time.sleep(1.0)  # a while with no database at all
        private_postgres.start()
        time.sleep(2.0)
        for load in loads:
            load.stop.set()
        for load in loads:
            load.join(timeout=60)
        answers = [answer for load in loads for answer in load.answers]
        statuses = {status for status, _ in answers}
        failures = [body for status, body in answers if status != 200]
        assert failures, "the restart was not noticed: no request failed"
        assert statuses <= {200, 503}, (statuses, [b for s, b in answers if s == 500][:3])
        for body in failures:
            assert body["error"]["code"] == "store_unavailable", body
        # Reconnected: the last turns of every client were answered.
        assert all(load.answers[-1][0] == 200 for load in loads)
        kept = all_stored(process.url)
        for status, body in answers:
            if status == 200:
                assert body["id"] in kept, f"{body['id']} was answered 200, then lost"
                assert kept[body["id"]]["output"] == body["output"]
        # And nothing it refused: no response beyond those answered 200.
        assert len(kept) == sum(1 for status, _ in answers if status == 200)

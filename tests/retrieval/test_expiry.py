"""``expires_after`` of files and vector stores, over HTTP with the openai SDK, on SQLite
and PostgreSQL. The server's clock is moved forward (OpenAI's shortest file expiry is
an hour), and its sweep runs every tenth of a second.

An expired file is gone at once (retrieve and content are 404s, search leaves its
chunks out) and the sweep deletes it for good: out of every store, its bytes deleted.
A store's ``expires_at`` follows its ``last_active_at``, which searching moves; past
it the store is ``expired`` and neither ``/search`` nor ``file_search`` can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.ids import Clock
from tests.retrieval.conftest import ALICE_KEY, retrieval_settings
from tests.retrieval.documents import DOCUMENTS
from tests.retrieval.test_file_search_tool import MODEL, search_call
from tests.retrieval.test_vector_stores import create_and_poll
from tests.storage.conftest import require_postgres
from tests.support import postgres
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread

DAY = 86400


class MovedClock:
    """The real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset


class Expiring:
    def __init__(self, url: str, clock: MovedClock, blob_exists: Callable[[str], bool]) -> None:
        self.client = openai.OpenAI(base_url=url, api_key=ALICE_KEY, max_retries=0)
        self.clock = clock
        self.blob_exists = blob_exists


@contextlib.contextmanager
def _server(
    backend: str, upstream: MockUpstream, tmp: pytest.TempPathFactory, sweep_seconds: float
) -> Iterator[Expiring]:
    """A server of its own (its clock moves) on an empty database of ``backend``."""
    database: str | None = None
    if backend == "sqlite":
        path = tmp.mktemp("expiry") / "relaystack.db"
        url = f"sqlite+aiosqlite:///{path}"
        blobs = Path(f"{path}.files")

        def blob_exists(file_id: str) -> bool:
            return any(file_id in found.name for found in blobs.rglob("*"))
    else:
        require_postgres()
        database = postgres.create_database()
        url = postgres.storage_url(database)
        dsn = url.replace("postgresql+asyncpg", "postgresql")

        def blob_exists(file_id: str) -> bool:
            return asyncio.run(_blob_rows(dsn, file_id)) > 0

    settings = retrieval_settings(
        upstream.base_url,
        url,
        embedding_model="openai/mock-model",
        expiry_sweep_seconds=sweep_seconds,
    )
    clock = MovedClock()
    try:
        with ServerThread(build_app(parse_config(settings), clock=Clock(clock.now))) as thread:
            yield Expiring(f"{thread.url}/v1", clock, blob_exists)
    finally:
        if database is not None:
            postgres.drop_database(database)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def expiring(
    request: pytest.FixtureRequest, upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Expiring]:
    """Sweeping every tenth of a second."""
    with _server(request.param, upstream, tmp_path_factory, 0.1) as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def unswept(
    request: pytest.FixtureRequest, upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Expiring]:
    """Sweeping once at start, then not for an hour: what reads do on their own."""
    with _server(request.param, upstream, tmp_path_factory, 3600) as server:
        yield server


async def _blob_rows(dsn: str, file_id: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(*) FROM file_blobs WHERE file_id = $1"
        return await connection.fetchval(query, file_id)
    finally:
        await connection.close()


def _eventually(check: Callable[[], Any], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def test_an_expired_file_is_gone_everywhere(expiring: Expiring) -> None:
    client = expiring.client
    keeps = client.files.create(file=("bread.md", DOCUMENTS["bread.md"]), purpose="assistants")
    expires = client.files.create(
        file=("volcanoes.txt", DOCUMENTS["volcanoes.txt"]),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    stores = [create_and_poll(client, file_ids=[keeps.id, expires.id]).id for _ in range(2)]
    for store_id in stores:
        found = client.vector_stores.search(store_id, query="Etna volcano lava", max_num_results=5)
        assert expires.id in {hit.file_id for hit in found.data}
    assert expiring.blob_exists(expires.id)

    expiring.clock.offset += 3601
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(expires.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(expires.id)
    assert expires.id not in {file.id for file in client.files.list()}
    for store_id in stores:
        # Whether or not the sweep has run yet, search no longer finds the file.
        found = client.vector_stores.search(store_id, query="Etna volcano lava", max_num_results=5)
        assert {hit.file_id for hit in found.data} == {keeps.id}

    def swept() -> bool:
        return all(client.vector_stores.retrieve(s).file_counts.total == 1 for s in stores)

    _eventually(swept)
    for store_id in stores:
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.files.retrieve(expires.id, vector_store_id=store_id)
    assert not expiring.blob_exists(expires.id)
    assert client.files.retrieve(keeps.id).id == keeps.id
    assert expiring.blob_exists(keeps.id)


def test_a_store_expires_after_days_without_use(expiring: Expiring, upstream: MockUpstream) -> None:
    client = expiring.client
    file_id = client.files.create(file=("bread.md", DOCUMENTS["bread.md"]), purpose="assistants").id
    store = create_and_poll(
        client, file_ids=[file_id], expires_after={"anchor": "last_active_at", "days": 1}
    )
    assert store.status == "completed"
    assert store.expires_at == store.last_active_at + DAY

    expiring.clock.offset += DAY / 2
    assert client.vector_stores.search(store.id, query="sourdough").data  # using it...
    used = client.vector_stores.retrieve(store.id)
    assert used.last_active_at >= store.last_active_at + DAY / 2  # ...moves both
    assert used.expires_at == used.last_active_at + DAY and used.status == "completed"

    expiring.clock.offset += DAY + 1
    expired = client.vector_stores.retrieve(store.id)
    assert expired.status == "expired"
    assert (expired.last_active_at, expired.expires_at) == (used.last_active_at, used.expires_at)
    with pytest.raises(openai.BadRequestError) as caught:
        client.vector_stores.search(store.id, query="sourdough")
    assert caught.value.body["code"] == "vector_store_expired"
    assert client.vector_stores.retrieve(store.id).status == "expired"  # no revival

    upstream.queue(Reply(tool_calls=[search_call("call_1", "sourdough")]), Reply(content=["ok"]))
    response = client.responses.create(
        model=MODEL, input="bread?", tools=[{"type": "file_search", "vector_store_ids": [store.id]}]
    )
    assert response.output[0].type == "file_search_call"
    assert response.output[0].status == "failed"


def test_a_store_without_expiry_never_expires(expiring: Expiring) -> None:
    client = expiring.client
    store = client.vector_stores.create(name="forever")
    expiring.clock.offset += 400 * DAY
    again = client.vector_stores.retrieve(store.id)
    assert again.status == "completed" and again.expires_at is None
    assert client.vector_stores.search(store.id, query="anything").data == []


def test_reads_leave_an_expired_file_out_before_the_sweep(unswept: Expiring) -> None:
    client = unswept.client
    expires = client.files.create(
        file=("volcanoes.txt", DOCUMENTS["volcanoes.txt"]),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    store = create_and_poll(client, file_ids=[expires.id])
    assert client.vector_stores.search(store.id, query="Etna volcano").data
    unswept.clock.offset += 3601
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(expires.id)
    assert client.vector_stores.search(store.id, query="Etna volcano").data == []
    assert client.vector_stores.retrieve(store.id).file_counts.total == 1  # not swept yet
    assert unswept.blob_exists(expires.id)

"""The chain cache holds at most ``chain_cache_bytes`` of items, and only responses
that ran to their end: failed or cancelled turns (however large their input) never
pin memory. Checked on a real server, reading its cache after real requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from relaystack.app import build_app
from relaystack.responses.chain_cache import ChainCache
from tests.conftest import server_config
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread

MODEL = "openai/gpt-4o"
BIG = "x" * 40_000  # each turn's input: about 40 kB of items


@pytest.fixture
def served(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, ChainCache]]:
    """A server whose cache holds about three big turns."""
    database = tmp_path_factory.mktemp("cache") / "relaystack.db"
    config = server_config(upstream.base_url, database, server={"chain_cache_bytes": 130_000})
    app = build_app(config)
    with ServerThread(app) as thread:
        yield f"{thread.url}/v1", app.state.responses._chains


def _create(base_url: str, **body: Any) -> dict[str, Any]:
    reply = httpx.post(f"{base_url}/responses", json={"model": MODEL, **body}, timeout=60)
    return reply.json()


def test_the_cache_stays_within_its_byte_bound(
    served: tuple[str, ChainCache], upstream: MockUpstream
) -> None:
    base_url, cache = served
    upstream.queue(*[Reply(content=["ok"]) for _ in range(6)])  # not an echo of 40 kB
    ids = [_create(base_url, input=f"{BIG} {turn}")["id"] for turn in range(6)]
    assert 0 < cache.size <= 130_000
    assert len(cache) == 3  # the three newest
    assert cache.get("default", ids[-1]) is not None
    assert cache.get("default", ids[0]) is None
    # Evicted or not, every chain still answers (from the store).
    follow = _create(base_url, input="and then?", previous_response_id=ids[0])
    assert follow["status"] == "completed"


def test_a_chain_costs_what_its_turns_add(served: tuple[str, ChainCache]) -> None:
    base_url, cache = served
    first = _create(base_url, input="a short first turn")
    after_first = cache.size
    second = _create(base_url, input="a short second turn", previous_response_id=first["id"])
    chain = cache.get("default", second["id"])
    assert chain is not None and chain.response_ids == [first["id"], second["id"]]
    # Both entries together count the first turn's items twice: once in each chain.
    assert after_first < cache.size < 4 * after_first


def test_a_chain_larger_than_the_cache_is_not_cached(served: tuple[str, ChainCache]) -> None:
    base_url, cache = served
    huge = _create(base_url, input="y" * 200_000)
    assert huge["status"] == "completed"
    assert cache.get("default", huge["id"]) is None
    assert cache.size == 0


def test_failed_responses_are_never_cached(
    served: tuple[str, ChainCache], upstream: MockUpstream
) -> None:
    base_url, cache = served
    upstream.queue(Reply(status=400, error_body={"error": {"message": "too long for me"}}))
    reply = httpx.post(f"{base_url}/responses", json={"model": MODEL, "input": BIG}, timeout=60)
    assert reply.status_code == 400
    stored = httpx.get(f"{base_url}/responses", params={"limit": 1}).json()["data"][0]
    assert stored["status"] == "failed"
    assert cache.get("default", stored["id"]) is None
    assert len(cache) == 0 and cache.size == 0


def test_a_zero_byte_cache_caches_nothing(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> None:
    database = tmp_path_factory.mktemp("nocache") / "relaystack.db"
    app = build_app(server_config(upstream.base_url, database, server={"chain_cache_bytes": 0}))
    with ServerThread(app) as thread:
        first = _create(f"{thread.url}/v1", input="one")
        second = _create(f"{thread.url}/v1", input="two", previous_response_id=first["id"])
        assert second["status"] == "completed"
        assert len(app.state.responses._chains) == 0

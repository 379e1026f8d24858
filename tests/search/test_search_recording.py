"""A SearXNG search recorded through the recording transport, then replayed offline."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from relaystack.recording import RecordingMissError, RecordingTransport
from relaystack.recording.context import current_test_id
from relaystack.search.searxng import SearxngBackend
from tests.support.search_servers import MockSearxng
from tests.support.servers import ServerThread

TEST_ID = "tests/search/test_search_recording.py::saturn"
QUERIES = ["saturn rings", "jupiter", "saturn rings"]


async def _search_all(mode: str, directory: Path, base_url: str) -> list[list[str]]:
    transport = RecordingTransport(
        httpx.AsyncHTTPTransport(), mode=mode, directory=directory, base_url=base_url
    )
    token = current_test_id.set(TEST_ID)
    try:
        async with httpx.AsyncClient(transport=transport) as client:
            backend = SearxngBackend(client, base_url)
            found = []
            for query in QUERIES:
                results = await backend.search(query, max_results=5)
                found.append([result.url for result in results])
            return found
    finally:
        current_test_id.reset(token)


async def test_record_then_replay_with_the_instance_stopped(tmp_path: Path) -> None:
    mock = MockSearxng()
    with ServerThread(mock.app) as thread:
        base_url = thread.url
        recorded = await _search_all("record", tmp_path, base_url)
    assert len(mock.requests) == 3
    assert recorded[0] != recorded[1]  # different queries, different answers

    replayed = await _search_all("replay", tmp_path, base_url)  # nothing listens now
    assert replayed == recorded

    files = sorted(path.name for path in tmp_path.iterdir())
    assert len(files) == 3  # one per query, the repeated one as its second occurrence
    bodies = [json.loads((tmp_path / name).read_text())["request"]["body"] for name in files]
    assert sorted(bodies) == sorted(
        ["q=saturn+rings&format=json", "q=jupiter&format=json", "q=saturn+rings&format=json"]
    )


async def test_a_replay_miss_is_a_replay_miss_not_a_backend_failure(tmp_path: Path) -> None:
    token = current_test_id.set(TEST_ID)
    try:
        transport = RecordingTransport(
            httpx.AsyncHTTPTransport(),
            mode="replay",
            directory=tmp_path,
            base_url="http://127.0.0.1:9",
        )
        async with httpx.AsyncClient(transport=transport) as client:
            backend = SearxngBackend(client, "http://127.0.0.1:9")
            with pytest.raises(RecordingMissError) as caught:
                await backend.search("saturn", max_results=3)
    finally:
        current_test_id.reset(token)
    # Nothing was contacted: the miss is said as a miss (a 400 the SDKs do not retry),
    # naming the request, not as a failing search backend.
    assert caught.value.status_code == 400
    assert caught.value.code == "replay_miss"
    assert "no recording of POST /v1/search" in caught.value.message

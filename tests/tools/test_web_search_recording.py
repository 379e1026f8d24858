"""A web_search turn recorded through the recording transport (the model's calls and the
SearXNG search alike), then replayed with the search backend and the upstream both
stopped: the same answer, its citations and sources, from the files alone."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.ids import IdSource
from tests.support import spec
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.search_servers import MockSearxng
from tests.support.servers import ServerThread

TEST_ID = "tests/tools/test_web_search_recording.py::search_turn"
NASA = "https://science.nasa.gov/saturn/rings/"


def counting_ids() -> IdSource:
    """The same ids in the same order on every run (the upstream sees them)."""
    counter = itertools.count()
    return IdSource(lambda prefix: f"{prefix}_{next(counter):06d}")


@contextmanager
def relaystack(
    upstream_url: str, searxng_url: str, mode: str, recordings: Path, state: Path
) -> Iterator[openai.OpenAI]:
    config = parse_config(
        {
            "providers": [
                {
                    "id": "mock",
                    "type": "openai-compatible",
                    "base_url": upstream_url,
                    "api_key": "sk-unused",
                    "models": ["mock-model"],
                }
            ],
            "storage": {"url": f"sqlite+aiosqlite:///{state}"},
            "recording": {"mode": mode, "directory": str(recordings)},
            "tools": {"web_search": {"backend": {"type": "searxng", "base_url": searxng_url}}},
        }
    )
    with ServerThread(build_app(config, ids=counting_ids())) as thread:
        yield openai.OpenAI(
            base_url=f"{thread.url}/v1",
            api_key="sk-unused",
            default_headers={"X-Relaystack-Test-Id": TEST_ID},
            max_retries=0,
        )


def search_turn(client: openai.OpenAI) -> dict[str, Any]:
    response = client.responses.create(
        model="mock/mock-model",
        input="What are Saturn's rings made of?",
        tools=[{"type": "web_search"}],
        include=["web_search_call.action.sources"],
    )
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return {key: data[key] for key in ("id", "status", "output", "usage")}


def test_a_search_turn_replays_with_the_backend_and_upstream_stopped(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    searxng = MockSearxng()
    upstream = MockUpstream()
    search = {"id": "c1", "name": "web_search", "arguments": json.dumps({"query": "saturn rings"})}
    upstream.queue(Reply(tool_calls=[search]), Reply(content=["Ice and rock [1]."]))
    with (
        ServerThread(upstream.app) as upstream_thread,
        ServerThread(searxng.app) as searxng_thread,
    ):
        upstream_url, searxng_url = f"{upstream_thread.url}/v1", searxng_thread.url
        with relaystack(
            upstream_url, searxng_url, "record", recordings, tmp_path / "a.db"
        ) as client:
            recorded = search_turn(client)
    assert len(searxng.requests) == 1 and len(upstream.requests) == 2
    call, answer = recorded["output"]
    assert call["type"] == "web_search_call" and call["status"] == "completed"
    assert {"type": "url", "url": NASA} in call["action"]["sources"]
    [citation] = answer["content"][0]["annotations"]
    assert citation["type"] == "url_citation" and citation["url"] == NASA

    # Both servers are gone: every answer, the search's included, comes from the files.
    with relaystack(upstream_url, searxng_url, "replay", recordings, tmp_path / "b.db") as client:
        replayed = search_turn(client)
    assert replayed == recorded
    assert len(searxng.requests) == 1 and len(upstream.requests) == 2

    endpoints = Counter(
        json.loads(path.read_text())["request"]["endpoint"] for path in recordings.iterdir()
    )
    assert endpoints == {"/v1/chat/completions": 2, "/search": 1}

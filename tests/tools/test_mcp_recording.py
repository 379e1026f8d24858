"""A turn with an MCP call, recorded through the recording transport, then replayed with
the MCP server and the upstream both stopped: the same items, answered from files."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from relaystack.ids import IdSource
from tests.support import spec
from tests.support.mcp_servers import tool_server
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread

TEST_ID = "tests/tools/test_mcp_recording.py::mcp_turn"


def counting_ids() -> IdSource:
    """The same ids in the same order on every run: the upstream sees them (tool call
    ids), so a replay must make the ones the recording saw."""
    counter = itertools.count()
    return IdSource(lambda prefix: f"{prefix}_{next(counter):06d}")


@contextmanager
def relaystack(upstream_url: str, mode: str, recordings: Path, state: Path) -> Iterator[Any]:
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
        }
    )
    with ServerThread(build_app(config, ids=counting_ids())) as thread:
        yield openai.OpenAI(
            base_url=f"{thread.url}/v1",
            api_key="sk-unused",
            default_headers={"X-Relaystack-Test-Id": TEST_ID},
            max_retries=0,
        )


def turn(client: openai.OpenAI, mcp_url: str) -> dict[str, Any]:
    tool = {
        "type": "mcp",
        "server_label": "calc",
        "server_url": mcp_url,
        "require_approval": "never",
    }
    response = client.responses.create(
        model="mock/mock-model",
        input="2+3?",
        tools=[tool],  # type: ignore[list-item]
    )
    data = response.model_dump(exclude_unset=True)
    spec.assert_valid_response(data)
    return {key: data[key] for key in ("id", "status", "output", "usage")}


def test_a_turn_with_an_mcp_call_replays_with_the_server_and_upstream_stopped(
    tmp_path: Path,
) -> None:
    recordings = tmp_path / "recordings"
    calls: Counter[str] = Counter()
    upstream = MockUpstream()
    add = {"id": "c1", "name": "add", "arguments": json.dumps({"a": 2, "b": 3})}
    upstream.queue(Reply(tool_calls=[add]), Reply(content=["5"]))
    with (
        ServerThread(upstream.app) as upstream_thread,
        ServerThread(tool_server("calc", calls).streamable_http_app()) as mcp_thread,
    ):
        upstream_url, mcp_url = f"{upstream_thread.url}/v1", f"{mcp_thread.url}/mcp"
        with relaystack(upstream_url, "record", recordings, tmp_path / "a.db") as client:
            recorded = turn(client, mcp_url)
    assert calls["add"] == 1 and len(upstream.requests) == 2
    assert [item["type"] for item in recorded["output"]] == [
        "mcp_list_tools",
        "mcp_call",
        "message",
    ]
    assert recorded["output"][1]["output"] == "5"

    # Both servers are gone: every answer now comes from the files.
    with relaystack(upstream_url, "replay", recordings, tmp_path / "b.db") as client:
        replayed = turn(client, mcp_url)
    assert replayed == recorded
    assert calls["add"] == 1 and len(upstream.requests) == 2

    endpoints = Counter(
        json.loads(path.read_text())["request"]["endpoint"] for path in recordings.iterdir()
    )
    # The two model calls, and one MCP session for the whole response: initialize, the
    # initialized notification (its empty 202), tools/list, then the call on the same
    # session. The listening stream and the DELETE that ends the session are not recorded.
    assert endpoints == {"/v1/chat/completions": 2, "/mcp": 4}


def stream_turn(client: openai.OpenAI, mcp_url: str) -> list[tuple[str, str | None]]:
    tool = {"type": "mcp", "server_label": "calc", "server_url": mcp_url}
    events = client.responses.create(
        model="mock/mock-model",
        input="2+3?",
        tools=[{**tool, "require_approval": "never"}],  # type: ignore[list-item]
        stream=True,
    )
    return [(event.type, getattr(event, "delta", None)) for event in events]


def test_a_streamed_turn_with_an_mcp_call_replays_its_events(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    calls: Counter[str] = Counter()
    upstream = MockUpstream()
    add = {"id": "c1", "name": "add", "arguments": json.dumps({"a": 2, "b": 3})}
    upstream.queue(Reply(tool_calls=[add]), Reply(content=["5"]))
    with (
        ServerThread(upstream.app) as upstream_thread,
        ServerThread(tool_server("calc", calls).streamable_http_app()) as mcp_thread,
    ):
        upstream_url, mcp_url = f"{upstream_thread.url}/v1", f"{mcp_thread.url}/mcp"
        with relaystack(upstream_url, "record", recordings, tmp_path / "a.db") as client:
            recorded = stream_turn(client, mcp_url)
    assert ("response.mcp_call.completed", None) in recorded
    assert recorded[-1][0] == "response.completed"
    with relaystack(upstream_url, "replay", recordings, tmp_path / "b.db") as client:
        assert stream_turn(client, mcp_url) == recorded
    assert calls["add"] == 1


def test_the_sse_transport_records_live_but_cannot_be_replayed(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    calls: Counter[str] = Counter()
    upstream = MockUpstream()
    add = {"id": "c1", "name": "add", "arguments": json.dumps({"a": 2, "b": 3})}
    upstream.queue(Reply(tool_calls=[add]), Reply(content=["5"]))
    with (
        ServerThread(upstream.app) as upstream_thread,
        ServerThread(tool_server("calc-sse", calls).sse_app()) as mcp_thread,
    ):
        upstream_url, mcp_url = f"{upstream_thread.url}/v1", f"{mcp_thread.url}/sse"
        # Recording: the GET stream that carries the answers passes by, so the tool runs.
        with relaystack(upstream_url, "record", recordings, tmp_path / "a.db") as client:
            recorded = turn(client, mcp_url)
    assert recorded["output"][1]["output"] == "5" and calls["add"] == 1
    # Replay has no stream to answer from: the listing fails, clearly and at once.
    with (
        relaystack(upstream_url, "replay", recordings, tmp_path / "b.db") as client,
        pytest.raises(openai.APIStatusError) as failed,
    ):
        turn(client, mcp_url)
    assert failed.value.status_code == 424
    assert "405" in failed.value.response.json()["error"]["message"]

"""Record a whole session against the mock upstream, then replay it with the mock gone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai

from relaystack.app import build_app
from relaystack.cli import main as cli_main
from relaystack.config import parse_config
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.spec_transport import spec_checked_client

TEST_ID = "tests/test_record_replay_roundtrip.py::session"
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


@contextmanager
def relaystack(upstream_url: str, mode: str, recordings: Path, state: Path) -> Iterator[Any]:
    config = parse_config(
        {
            # No model list: discovered from the upstream, so GET /models is recorded too.
            "providers": [
                {
                    "id": "mock",
                    "type": "openai-compatible",
                    "base_url": upstream_url,
                    "api_key": "sk-secret-never-recorded",
                }
            ],
            "storage": {"url": f"sqlite+aiosqlite:///{state}"},
            "recording": {"mode": mode, "directory": str(recordings)},
        }
    )
    with ServerThread(build_app(config)) as thread:
        yield openai.OpenAI(
            base_url=f"{thread.url}/v1",
            api_key="sk-unused",
            default_headers={"X-Relaystack-Test-Id": TEST_ID},
            max_retries=0,
            http_client=spec_checked_client(),  # replayed answers meet the spec too
        )


def session(client: openai.OpenAI) -> dict[str, Any]:
    """Everything a client sees, minus the ids the API makes random."""
    seen: dict[str, Any] = {}
    seen["models"] = sorted(model.id for model in client.models.list())
    first = client.responses.create(model="mock/mock-model", input="record me")
    seen["text"] = (first.output_text, first.usage.model_dump())
    events = client.responses.create(model="mock/mock-model", input="stream me", stream=True)
    seen["stream"] = [(event.type, getattr(event, "delta", None)) for event in events]
    call = client.responses.create(model="mock/mock-model", input="weather?", tools=TOOLS)
    function_call = call.output[0]
    seen["call"] = (function_call.type, function_call.name, function_call.arguments)
    follow_up = client.responses.create(
        model="mock/mock-model",
        previous_response_id=call.id,
        input=[
            {"type": "function_call_output", "call_id": function_call.call_id, "output": "sunny"}
        ],
        tools=TOOLS,
    )
    seen["follow_up"] = follow_up.output_text
    chat = client.chat.completions.create(
        model="mock/mock-model", messages=[{"role": "user", "content": "chat me"}]
    )
    seen["chat"] = chat.choices[0].message.content
    chunks = client.chat.completions.create(
        model="mock/mock-model", messages=[{"role": "user", "content": "chat stream"}], stream=True
    )
    seen["chat_stream"] = "".join(
        chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices
    )
    embedding = client.embeddings.create(model="mock/mock-model", input=["a", "bbb"])
    seen["embeddings"] = [item.embedding for item in embedding.data]
    return seen


def test_a_recorded_session_replays_identically_without_the_upstream(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    mock = MockUpstream()
    with ServerThread(mock.app) as upstream:
        url = f"{upstream.url}/v1"
        mock.queue(
            Reply(content=["record", " me"]),
            Reply(content=["one", " two", " three"]),
            Reply(
                tool_calls=[
                    {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}
                ]
            ),
            Reply(content=["It is sunny."]),
        )
        with relaystack(url, "record", recordings, tmp_path / "a.db") as client:
            recorded = session(client)
    # The upstream is gone now: every answer must come from the files.
    with relaystack(url, "replay", recordings, tmp_path / "b.db") as client:
        replayed = session(client)
    assert replayed == recorded
    assert recorded["call"] == ("function_call", "get_weather", '{"city": "Oslo"}')
    assert recorded["follow_up"] == "It is sunny."

    # What relaystack wrote passes its own checker (names match keys, all parse).
    assert cli_main(["recordings", "verify", str(recordings)]) == 0

    files = sorted(recordings.glob("*.json"))
    assert any(path.name.startswith("models-") for path in files)
    for path in files:
        text = path.read_text()
        assert "sk-secret" not in text, f"{path.name} must not hold credentials"
        data = json.loads(text)
        assert list(data) == ["test_id", "request", "response", "id_normalization_mapping"]
        assert data["request"]["headers"] == {}

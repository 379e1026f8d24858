"""What relaystack records for the seed's request is the reference's file, url aside."""

from __future__ import annotations

import json
from pathlib import Path

import openai

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.support.mock_upstream import MockUpstream, Reply, recording
from tests.support.servers import ServerThread
from tests.test_replay_saturn import SATURN_TEST_ID


def test_recording_the_seed_request_writes_the_fixture_file(tmp_path: Path) -> None:
    fixture = recording("d058ce92")
    # Stream the seed's chunks as a live upstream would: fresh ids and real timestamps.
    live_chunks = []
    for chunk in fixture["response"]["body"]:
        data = dict(chunk["__data__"], id="chatcmpl-LiveId123", created=1760000000)
        live_chunks.append(data)
    mock = MockUpstream()
    mock.queue(Reply(chunks=live_chunks, expect_body=fixture["request"]["body"]))
    recordings = tmp_path / "recordings"
    with ServerThread(mock.app) as upstream:
        config = parse_config(
            {
                "providers": [
                    {
                        "id": "openai",
                        "type": "openai-compatible",
                        "base_url": f"{upstream.url}/v1",
                        "models": ["gpt-4o"],
                    }
                ],
                "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"},
                "recording": {"mode": "record", "directory": str(recordings)},
            }
        )
        with ServerThread(build_app(config)) as server:
            client = openai.OpenAI(
                base_url=f"{server.url}/v1",
                api_key="sk-unused",
                default_headers={"X-Relaystack-Test-Id": SATURN_TEST_ID},
                max_retries=0,
            )
            client.responses.create(
                model="openai/gpt-4o",
                input="Which planet has rings around it with a name starting with letter S?",
            )

    written = recordings / "d058ce92a083c160c08eb29e7b396e65fa55f4ddf217d2bd3c92eeb85bee5251.json"
    assert written.exists(), sorted(p.name for p in recordings.iterdir())
    ours = json.loads(written.read_text())
    assert ours["request"].pop("url") == f"{upstream.url}/v1/v1/chat/completions"
    fixture["request"].pop("url")
    assert ours == fixture
    assert written.read_text().endswith("}\n")

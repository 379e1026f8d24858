"""The reference's own test flow, replayed offline from the fixture recordings in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.support.mock_upstream import RECORDINGS
from tests.support.servers import ServerThread

SATURN_TEST_ID = (
    "tests/integration/responses/test_basic_responses.py::test_response_non_streaming_basic"
    "[client_with_models-txt=openai/gpt-4o-saturn]"
)


@pytest.fixture
def replay_server(tmp_path: Path) -> Iterator[str]:
    config = parse_config(
        {
            "providers": [
                {
                    "id": "openai",
                    "type": "openai-compatible",
                    # Never contacted: replay mode must not touch the network.
                    "base_url": "https://api.openai.com/v1",
                    "api_key": "sk-never-sent",
                    "models": ["gpt-4o"],
                }
            ],
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"},
            "recording": {"mode": "replay", "directory": str(RECORDINGS)},
        }
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


@pytest.mark.parametrize(
    "header",
    [
        {"X-OGX-Provider-Data": json.dumps({"__test_id": SATURN_TEST_ID})},
        {"X-LlamaStack-Provider-Data": json.dumps({"__test_id": SATURN_TEST_ID})},
        {"X-Relaystack-Test-Id": SATURN_TEST_ID},
    ],
    ids=["ogx-header", "llamastack-header", "relaystack-header"],
)
def test_reference_flow_replays_from_the_fixture_files(
    replay_server: str, header: dict[str, str]
) -> None:
    before = {path.name: path.read_bytes() for path in RECORDINGS.glob("*.json")}
    client = openai.OpenAI(
        base_url=replay_server, api_key="sk-unused", default_headers=header, max_retries=0
    )

    first = client.responses.create(
        model="openai/gpt-4o",
        input="Which planet has rings around it with a name starting with letter S?",
    )
    assert "saturn" in first.output_text.lower()
    assert client.responses.retrieve(first.id).output_text == first.output_text

    second = client.responses.create(
        model="openai/gpt-4o",
        input="Repeat your previous response in all caps.",
        previous_response_id=first.id,
    )
    assert "SATURN" in second.output_text
    assert second.usage is not None
    assert second.usage.input_tokens == 66
    assert second.usage.output_tokens == 41
    assert second.usage.total_tokens == 107

    after = {path.name: path.read_bytes() for path in RECORDINGS.glob("*.json")}
    assert after == before, "the fixture recordings must be read in place, never written"


def test_a_replay_miss_is_one_400_the_sdk_does_not_retry(replay_server: str) -> None:
    sent: list[httpx.Request] = []
    client = openai.OpenAI(
        base_url=replay_server,
        api_key="sk-unused",
        default_headers={"X-Relaystack-Test-Id": SATURN_TEST_ID},
        # The SDK's default retries (2): a miss must not be one of the errors it retries.
        http_client=httpx.Client(event_hooks={"request": [sent.append]}),
    )
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="openai/gpt-4o", input="Which planet is the largest?")
    assert len(sent) == 1
    error = raised.value.response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "replay_miss",
        None,
    )
    message = error["message"]
    assert message.startswith("Replay miss (recording mode 'replay'): ")
    assert "upstream" not in message.split(".")[0]  # not reported as an upstream failure
    assert SATURN_TEST_ID in message
    assert "d058ce92" in message  # the nearest recording
    assert "messages" in message  # the first field that differs

    stream = client.responses.create(
        model="openai/gpt-4o", input="Which planet is the largest?", stream=True
    )
    events = list(stream)
    assert events[-1].type == "response.failed"
    # A failed response carries one of OpenAI's Responses codes; the words say what missed.
    assert events[-1].response.error.code == "invalid_prompt"
    assert events[-1].response.error.message.startswith("Replay miss")
    assert SATURN_TEST_ID in events[-1].response.error.message

    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
    assert raised.value.code == "replay_miss"
    assert len(sent) == 3

"""The embedded model computes log probabilities: asked for through the Responses API,
they arrive on the ``output_text`` part and its delta events, one entry per token."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.support import spec
from tests.support.servers import ServerThread
from tests.support.sse import stream_events

CHAT_MODEL = "local/smollm2-135m-instruct"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state: Path = tmp_path_factory.mktemp("local-logprobs") / "state.db"
    config = parse_config(
        {"providers": [{"type": "local"}], "storage": {"url": f"sqlite:///{state}"}}
    )
    with ServerThread(build_app(config)) as thread:
        yield f"{thread.url}/v1"


def test_greedy_tokens_are_their_own_most_likely_alternative(server: str) -> None:
    events = stream_events(
        server,
        {
            "model": CHAT_MODEL,
            "input": "Name a colour.",
            "include": ["message.output_text.logprobs"],
            "top_logprobs": 3,
            "max_output_tokens": 16,
            "temperature": 0,
        },
    )
    spec.check_stream_contract(events)
    part = events[-1]["response"]["output"][0]["content"][0]
    entries = part["logprobs"]
    assert entries, part
    # Every token's text, in order, is the answer (no stop sequence held any back).
    assert "".join(entry["token"] for entry in entries) == part["text"]
    deltas = [e for e in events if e["type"] == "response.output_text.delta"]
    assert [entry for delta in deltas for entry in delta["logprobs"]] == entries
    for entry in entries:
        assert entry["logprob"] <= 0 and bytes(entry["bytes"]).decode() == entry["token"]
        top = entry["top_logprobs"]
        assert len(top) == 3
        assert [t["logprob"] for t in top] == sorted((t["logprob"] for t in top), reverse=True)
        # Temperature 0 samples the argmax: the token is the first alternative.
        assert top[0]["token"] == entry["token"]
        assert math.isclose(top[0]["logprob"], entry["logprob"])
        assert sum(math.exp(t["logprob"]) for t in top) <= 1.0 + 1e-6


def test_without_asking_the_local_model_sends_none(server: str) -> None:
    client = openai.OpenAI(base_url=server, api_key="sk-unused", max_retries=0, timeout=120)
    response = client.responses.create(
        model=CHAT_MODEL, input="Name a colour.", max_output_tokens=16, temperature=0
    )
    assert response.output[0].content[0].logprobs == []  # type: ignore[union-attr]

"""Fields relaystack accepts but does not act on itself: each is either sent on to an
upstream configured to take it (``providers[].forward``) or echoed and documented as
such, never silently refused or silently half-done."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import ConfigError, parse_config
from relaystack.responses.request import IncludeValue
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.sse import stream_events
from tests.support.stack import stack_settings

MODEL = "openai/gpt-4o"
FORWARDABLE = ["user", "safety_identifier", "prompt_cache_key", "service_tier", "verbosity"]
FIELDS: dict[str, Any] = {
    "user": "user-42",
    "safety_identifier": "safe-1",
    "prompt_cache_key": "cache-key",
    "service_tier": "flex",
    "text": {"verbosity": "low"},
}


@pytest.fixture
def forwarding_client(upstream: MockUpstream, tmp_path: Path) -> Iterator[openai.OpenAI]:
    settings = stack_settings(upstream.base_url, f"sqlite:///{tmp_path / 'fwd.db'}")
    settings["providers"][0]["forward"] = FORWARDABLE
    with ServerThread(build_app(parse_config(settings))) as thread:
        yield openai.OpenAI(base_url=f"{thread.url}/v1", api_key="sk-unused", max_retries=0)


def test_forwarded_fields_reach_an_upstream_configured_to_take_them(
    forwarding_client: openai.OpenAI, upstream: MockUpstream
) -> None:
    response = forwarding_client.responses.create(model=MODEL, input="hi", **FIELDS)
    body = upstream.requests[-1]
    assert {name: body[name] for name in FORWARDABLE} == {
        "user": "user-42",
        "safety_identifier": "safe-1",
        "prompt_cache_key": "cache-key",
        "service_tier": "flex",
        "verbosity": "low",
    }
    assert (response.user, response.safety_identifier, response.prompt_cache_key) == (
        "user-42",
        "safe-1",
        "cache-key",
    )
    assert response.text.verbosity == "low"


def test_a_forwarding_upstream_gets_only_the_fields_a_request_sets(
    forwarding_client: openai.OpenAI, upstream: MockUpstream
) -> None:
    forwarding_client.responses.create(model=MODEL, input="hi")
    assert not set(FORWARDABLE) & set(upstream.requests[-1])


def test_by_default_the_fields_are_echoed_and_not_sent(
    client: openai.OpenAI, upstream: MockUpstream
) -> None:
    response = client.responses.create(model=MODEL, input="hi", **FIELDS)
    assert not set(FORWARDABLE) & set(upstream.requests[-1])
    assert response.user == "user-42" and response.prompt_cache_key == "cache-key"
    assert response.safety_identifier == "safe-1" and response.service_tier == "flex"
    assert response.text.verbosity == "low"


def test_forward_names_only_fields_it_knows(upstream: MockUpstream, tmp_path: Path) -> None:
    settings = stack_settings(upstream.base_url, f"sqlite:///{tmp_path / 'x.db'}")
    settings["providers"][0]["forward"] = ["metadata"]
    with pytest.raises(ConfigError, match="forward"):
        parse_config(settings)


@pytest.mark.parametrize("value", get_args(IncludeValue))
def test_every_include_value_is_accepted(
    client: openai.OpenAI, upstream: MockUpstream, value: str
) -> None:
    response = client.responses.create(model=MODEL, input="hi", include=[value])  # type: ignore[list-item]
    assert response.status == "completed"
    assert "include" not in upstream.requests[-1]


def test_stream_options_are_accepted_and_no_obfuscation_is_added(
    server: str, upstream: MockUpstream
) -> None:
    events = stream_events(
        server,
        {"model": MODEL, "input": "hi", "stream_options": {"include_obfuscation": True}},
    )
    assert events[-1]["type"] == "response.completed"
    assert not [event for event in events if "obfuscation" in event]


def test_reasoning_summary_is_echoed(client: openai.OpenAI, upstream: MockUpstream) -> None:
    response = client.responses.create(
        model=MODEL, input="hi", reasoning={"effort": "low", "summary": "concise"}
    )
    assert response.reasoning is not None and response.reasoning.summary == "concise"
    assert "summary" not in str(upstream.requests[-1])

"""A 200-turn chain against a model with a small context window keeps working, with
``truncation: "auto"`` and with ``context_management``, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.context.conftest import WINDOW, is_summary_call, small_window_settings, summarising
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread

MODEL = "openai/mock-model"  # WINDOW tokens, estimated at four characters a token
TURNS = 200
FILLER = "tell me more about the lighthouse keeper"  # ~12 tokens; its echo as many


@pytest.fixture(scope="session")
def small_backend(upstream: MockUpstream, storage_url: str) -> Iterator[openai.OpenAI]:
    settings = small_window_settings(upstream.base_url, storage_url)
    with ServerThread(build_app(parse_config(settings))) as thread:
        yield openai.OpenAI(base_url=f"{thread.url}/v1", api_key="x", max_retries=0)


def _estimated(messages: list[dict[str, str]]) -> int:
    return sum(len(str(m["content"])) for m in messages) // 4


def test_two_hundred_turns_with_auto_truncation(
    small_backend: openai.OpenAI, upstream: MockUpstream
) -> None:
    previous = None
    for turn in range(TURNS):
        response = small_backend.responses.create(
            model=MODEL,
            input=f"turn {turn}: {FILLER}",
            previous_response_id=previous,
            truncation="auto",
            max_output_tokens=64,
        )
        assert response.status == "completed"
        previous = response.id
    sent = upstream.requests[-1]["messages"]
    assert sent[-1]["content"] == f"turn {TURNS - 1}: {FILLER}"
    assert _estimated(sent) <= WINDOW - 64
    assert len(sent) < 2 * TURNS - 1, "older turns were dropped"
    # Every upstream call fitted, from the first turn that needed truncation on.
    assert max(_estimated(body["messages"]) for body in upstream.requests) <= WINDOW - 64


def test_two_hundred_turns_with_context_management(
    small_backend: openai.OpenAI, upstream: MockUpstream
) -> None:
    summarising(upstream, "The user keeps asking about the lighthouse keeper.")
    previous = None
    compactions = 0
    for turn in range(TURNS):
        response = small_backend.responses.create(
            model=MODEL,
            input=f"turn {turn}: {FILLER}",
            previous_response_id=previous,
            context_management=[{"type": "compaction", "compact_threshold": WINDOW // 2}],
        )
        assert response.status == "completed"
        compactions += [item.type for item in response.output].count("compaction")
        previous = response.id
    turn_calls = [body for body in upstream.requests if not is_summary_call(body)]
    summary_calls = len(upstream.requests) - len(turn_calls)
    assert compactions == summary_calls >= TURNS // 20
    assert len(turn_calls) == TURNS
    assert max(_estimated(body["messages"]) for body in turn_calls) <= WINDOW
    last = turn_calls[-1]["messages"]
    assert last[-1]["content"] == f"turn {TURNS - 1}: {FILLER}"

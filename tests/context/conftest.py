"""A relaystack whose models have small context windows, over the mock upstream.

``mock-model`` holds ``WINDOW`` tokens counted by the estimate (four characters a
token); ``gpt-4o`` keeps the defaults (OpenAI's o200k encoding, 128k tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import parse_config
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.stack import stack_settings

WINDOW = 400
SUMMARY_MARK = "You compact conversations."


def small_window_settings(upstream_url: str, storage_url: str, **extra: Any) -> dict[str, Any]:
    settings = stack_settings(upstream_url, storage_url, **extra)
    settings["providers"][0]["model_settings"] = {
        "mock-model": {"context_window": WINDOW, "tokenizer": "estimate"}
    }
    return settings


@pytest.fixture(scope="session")
def small_server(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("context") / "relaystack.db"
    settings = small_window_settings(
        upstream.base_url, f"sqlite:///{database}", server={"sealing_key": "shared secret"}
    )
    with ServerThread(build_app(parse_config(settings))) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture
def small(small_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=small_server, api_key="sk-unused", max_retries=0)


def summarising(upstream: MockUpstream, summary: str = "SUMMARY") -> None:
    """Summary calls get ``summary``; every other call the echo."""

    def respond(body: dict[str, Any]) -> Reply | None:
        first = body["messages"][0]
        if first["role"] == "system" and str(first["content"]).startswith(SUMMARY_MARK):
            return Reply(content=[summary])
        return None

    upstream.responder = respond


def is_summary_call(body: dict[str, Any]) -> bool:
    return str(body["messages"][0].get("content", "")).startswith(SUMMARY_MARK)

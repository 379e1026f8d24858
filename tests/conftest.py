"""Shared fixtures: a mock upstream and a real relaystack server, both on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from relaystack.app import build_app
from relaystack.config import Config
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.spec_transport import spec_checked_client
from tests.support.stack import stack_config

# The MCP servers serve the tool tests and the storage tests alike.
pytest_plugins = ["tests.support.mcp_fixtures"]


@pytest.fixture(scope="session")
def upstream() -> Iterator[MockUpstream]:
    mock = MockUpstream()
    with ServerThread(mock.app) as thread:
        mock.base_url = f"{thread.url}/v1"
        mock.thread = thread
        yield mock


@pytest.fixture(autouse=True)
def _fresh_upstream(request: pytest.FixtureRequest) -> None:
    if "upstream" in request.fixturenames:
        request.getfixturevalue("upstream").reset()


def server_config(upstream_url: str, database: Path, **extra: object) -> Config:
    return stack_config(upstream_url, f"sqlite:///{database}", **extra)


@pytest.fixture(scope="session")
def server(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("state") / "relaystack.db"
    with ServerThread(build_app(server_config(upstream.base_url, database))) as thread:
        yield f"{thread.url}/v1"


@pytest.fixture
def client(server: str) -> openai.OpenAI:
    # Every answer it gets is checked against the Open Responses spec as it passes.
    return openai.OpenAI(
        base_url=server, api_key="sk-unused", max_retries=0, http_client=spec_checked_client()
    )

"""A pytest plugin: relaystack in-process, recording or replaying, one test id per test.

Enabled automatically once relaystack is installed (``pytest11`` entry point); it does
nothing until a test asks for one of its fixtures::

    def test_answer(relaystack_client):
        reply = relaystack_client.responses.create(model="openai/gpt-4o", input="Hi")

Options (command line, or ``[tool.pytest.ini_options]``):

* ``--relaystack-config FILE`` / ``relaystack_config``: the providers to serve.
* ``--relaystack-record-mode MODE`` / ``relaystack_record_mode``: live, record, replay
  (default) or record-if-missing; ``RELAYSTACK_RECORD_MODE`` overrides the ini value.
* ``--relaystack-recordings DIR`` / ``relaystack_recordings``: where recordings live.

Each test's requests carry its node id in ``X-Relaystack-Test-Id``, so every test has
its own recordings and identical requests in different tests never collide.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TEST_ID_HEADER = "X-Relaystack-Test-Id"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("relaystack")
    group.addoption("--relaystack-config", help="relaystack YAML configuration")
    group.addoption(
        "--relaystack-record-mode",
        choices=["live", "record", "replay", "record-if-missing"],
        help="how upstream calls are recorded or replayed (default replay)",
    )
    group.addoption("--relaystack-recordings", help="recordings directory")
    parser.addini("relaystack_config", "relaystack YAML configuration")
    parser.addini("relaystack_record_mode", "live, record, replay or record-if-missing")
    parser.addini("relaystack_recordings", "recordings directory")


@dataclass(frozen=True)
class RelaystackServer:
    base_url: str  # ends in /v1, ready for OpenAI(base_url=...)
    record_mode: str
    recordings: Path | None


def _setting(config: pytest.Config, name: str, env: str | None = None) -> str | None:
    value = config.getoption(f"--relaystack-{name.replace('_', '-')}")
    if value:
        return value
    if env and os.environ.get(env):
        return os.environ[env]
    return config.getini(f"relaystack_{name}") or None


def _relative_to_root(config: pytest.Config, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    return path if path.is_absolute() else config.rootpath / path


@pytest.fixture(scope="session")
def relaystack_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RelaystackServer]:
    from relaystack.app import build_app
    from relaystack.config import Config, load_config
    from relaystack.testing.server import ServerThread

    config_file = _relative_to_root(pytestconfig, _setting(pytestconfig, "config"))
    mode = _setting(pytestconfig, "record_mode", "RELAYSTACK_RECORD_MODE") or "replay"
    recordings = _relative_to_root(
        pytestconfig, _setting(pytestconfig, "recordings", "RELAYSTACK_RECORDINGS_DIR")
    )
    if mode != "live" and recordings is None:
        raise pytest.UsageError("relaystack: set --relaystack-recordings (or the ini value)")
    config = load_config(config_file) if config_file else Config()
    state = tmp_path_factory.mktemp("relaystack") / "state.db"
    config = config.model_copy(
        update={
            "storage": config.storage.model_copy(update={"url": f"sqlite:///{state}"}),
            "recording": config.recording.model_copy(
                update={"mode": mode, "directory": str(recordings) if recordings else None}
            ),
        }
    )
    with ServerThread(build_app(config)) as thread:
        yield RelaystackServer(f"{thread.url}/v1", mode, recordings)


@pytest.fixture
def relaystack_headers(request: pytest.FixtureRequest) -> dict[str, str]:
    """The headers that scope a request to the running test's recordings."""
    return {TEST_ID_HEADER: request.node.nodeid}


@pytest.fixture
def relaystack_base_url(relaystack_server: RelaystackServer) -> str:
    return relaystack_server.base_url


@pytest.fixture
def relaystack_client(relaystack_base_url: str, relaystack_headers: dict[str, str]) -> Any:
    """An ``openai.OpenAI`` client for this test (needs the ``openai`` package)."""
    import openai

    return openai.OpenAI(
        base_url=relaystack_base_url,
        api_key="relaystack",
        default_headers=relaystack_headers,
        max_retries=0,
    )

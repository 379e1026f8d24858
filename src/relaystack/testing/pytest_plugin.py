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

With ``RELAYSTACK_RECORDINGS_RUN_LOG`` set, a session that started relaystack ends its
run log with a note saying whether every test ran and passed (``partial_run_reasons``),
which ``relaystack recordings prune`` checks before deleting anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TEST_ID_HEADER = "X-Relaystack-Test-Id"
_STARTED = pytest.StashKey[bool]()
_DESELECTED = pytest.StashKey[int]()


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


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[_DESELECTED] = config.stash.get(_DESELECTED, 0) + len(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from relaystack.recording.runlog import COMPLETE, PARTIAL, RunLog, run_log_path

    path = run_log_path()
    if path is None or not session.config.stash.get(_STARTED, False):
        return
    reasons = partial_run_reasons(session, exitstatus)
    if reasons:
        RunLog(path).note(f"{PARTIAL}: {', '.join(reasons)}")
    else:
        RunLog(path).note(f"{COMPLETE}: {session.testscollected} tests")


def partial_run_reasons(session: pytest.Session, exitstatus: int) -> list[str]:
    """Why this session did not use every recording its suite needs (empty: it did)."""
    config = session.config
    reasons = []
    if session.testsfailed:
        reasons.append(f"{session.testsfailed} failed")
    if deselected := config.stash.get(_DESELECTED, 0):
        reasons.append(f"{deselected} deselected")
    if session.shouldstop or exitstatus == pytest.ExitCode.INTERRUPTED:
        reasons.append("stopped early")
    if subset := _subset_args(config):
        reasons.append(f"only {' '.join(subset)}")
    return reasons


def _subset_args(config: pytest.Config) -> list[str]:
    """Command-line paths or node ids narrower than the suite (rootdir or testpaths)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    whole = {config.rootpath.resolve()}
    whole |= {(config.rootpath / p).resolve() for p in config.getini("testpaths")}
    invocation = config.invocation_params.dir
    return [arg for arg in config.args if "::" in arg or (invocation / arg).resolve() not in whole]


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
    from relaystack.testing.server import ServerStartError, ServerThread

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
    pytestconfig.stash[_STARTED] = True
    try:
        thread = ServerThread(build_app(config)).start()
    except ServerStartError as exc:
        # The reason in one line (an unreachable upstream, a missing directory), not
        # a thread's traceback.
        pytest.fail(f"relaystack: {exc}", pytrace=False)
    try:
        yield RelaystackServer(f"{thread.url}/v1", mode, recordings)
    finally:
        thread.stop()


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

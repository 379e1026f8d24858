"""The pytest plugin, used the way a user's suite would: record once, replay offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread

pytest_plugins = ["pytester"]

SAMPLE_TEST = """
def test_greeting(relaystack_client, relaystack_headers):
    reply = relaystack_client.responses.create(model="mock/mock-model", input="hello plugin")
    assert reply.output_text == "echo: hello plugin"
    assert relaystack_headers["X-Relaystack-Test-Id"].endswith("test_greeting")
"""


def test_sample_suite_records_then_replays_without_upstream(pytester: pytest.Pytester) -> None:
    mock = MockUpstream()
    with ServerThread(mock.app) as upstream:
        pytester.makefile(
            ".yaml",
            relaystack=(
                "providers:\n"
                "  - id: mock\n"
                "    type: openai-compatible\n"
                f"    base_url: {upstream.url}/v1\n"
                "    models: [mock-model]\n"
            ),
        )
        pytester.makepyfile(test_sample=SAMPLE_TEST)
        args = [
            "--relaystack-config",
            "relaystack.yaml",
            "--relaystack-recordings",
            "recs",
            "-p",
            "no:cacheprovider",
        ]
        recorded = pytester.runpytest_subprocess(*args, "--relaystack-record-mode", "record")
        recorded.assert_outcomes(passed=1)
        assert len(mock.requests) == 1

    files = list(Path(pytester.path, "recs").glob("*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["test_id"] == "test_sample.py::test_greeting"

    # The upstream is stopped: the replay must be served from the recording alone.
    replayed = pytester.runpytest_subprocess(*args, "--relaystack-record-mode", "replay")
    replayed.assert_outcomes(passed=1)


TWO_TESTS = """
def test_one(relaystack_client):
    assert relaystack_client.responses.create(model="mock/mock-model", input="one").output_text


def test_two(relaystack_client):
    assert relaystack_client.responses.create(model="mock/mock-model", input="two").output_text
"""


def _config(pytester: pytest.Pytester, upstream_url: str, models: bool = True) -> list[str]:
    pytester.makefile(
        ".yaml",
        relaystack=(
            "providers:\n"
            "  - id: mock\n"
            "    type: openai-compatible\n"
            f"    base_url: {upstream_url}/v1\n" + ("    models: [mock-model]\n" if models else "")
        ),
    )
    return ["--relaystack-config", "relaystack.yaml", "--relaystack-recordings", "recs"]


def test_a_run_log_says_whether_the_run_was_whole_and_prune_heeds_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = pytester.path / "run.log"
    monkeypatch.setenv("RELAYSTACK_RECORDINGS_RUN_LOG", str(log))
    pytester.makepyfile(test_sample=TWO_TESTS)
    mock = MockUpstream()
    with ServerThread(mock.app) as upstream:
        args = [*_config(pytester, upstream.url), "-p", "no:cacheprovider"]
        recorded = pytester.runpytest_subprocess(*args, "--relaystack-record-mode", "record")
        recorded.assert_outcomes(passed=2)
    assert log.read_text().splitlines()[-1] == "# run complete: 2 tests"

    log.unlink()
    only_one = pytester.runpytest_subprocess(*args, "-k", "test_one")
    only_one.assert_outcomes(passed=1, deselected=1)
    assert log.read_text().splitlines()[-1] == "# run partial: 1 deselected"
    prune = ["recordings", "prune", "recs", "--unused-since", str(log)]
    refused = pytester.run(sys.executable, "-m", "relaystack", *prune)
    assert refused.ret == 1
    assert "covers a partial run (1 deselected); refusing to prune" in refused.stderr.str()
    assert len(list((pytester.path / "recs").glob("*.json"))) == 2

    log.unlink()
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)
    assert log.read_text().splitlines()[-1] == "# run complete: 2 tests"
    pruned = pytester.run(sys.executable, "-m", "relaystack", *prune)
    assert pruned.ret == 0 and "0 of 2 recording(s) unused (deleted)" in pruned.stdout.str()


def test_record_mode_with_the_upstream_down_fails_with_the_cause(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_sample=SAMPLE_TEST)
    # Discard port: nothing answers. Models discovered: start-up itself needs the upstream.
    args = _config(pytester, "http://127.0.0.1:9", models=False)
    result = pytester.runpytest_subprocess(*args, "--relaystack-record-mode", "record")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            # The provider's URL stays in the server log, out of client-facing errors.
            "*relaystack: server did not start: providers.0 (mock): "
            "cannot connect to upstream mock*"
        ]
    )
    assert "server thread died" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


INI_TEST = """
import httpx


def test_through_the_base_url(relaystack_server, relaystack_base_url, relaystack_headers):
    assert relaystack_base_url == relaystack_server.base_url
    reply = httpx.post(
        f"{relaystack_base_url}/responses",
        json={"model": "mock/mock-model", "input": "from the ini"},
        headers=relaystack_headers,
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["output"][0]["content"][0]["text"] == "echo: from the ini"
"""


def test_the_ini_values_and_the_environment_configure_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """relaystack_config / relaystack_record_mode / relaystack_recordings from the ini;
    RELAYSTACK_RECORD_MODE wins over the ini; relaystack_server and relaystack_base_url."""
    mock = MockUpstream()
    with ServerThread(mock.app) as upstream:
        _config(pytester, upstream.url)
        pytester.makeini(
            "[pytest]\n"
            "relaystack_config = relaystack.yaml\n"
            "relaystack_record_mode = replay\n"
            "relaystack_recordings = ini-recs\n"
        )
        pytester.makepyfile(test_ini=INI_TEST)
        # The ini says replay, and its directory does not exist yet: the server does
        # not start, and says why in one line.
        missing = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        missing.assert_outcomes(errors=1)
        missing.stdout.fnmatch_lines(["*relaystack: *ini-recs*"])
        assert mock.requests == []
        monkeypatch.setenv("RELAYSTACK_RECORD_MODE", "record")
        recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        recorded.assert_outcomes(passed=1)
        assert len(mock.requests) == 1
    assert len(list(Path(pytester.path, "ini-recs").glob("*.json"))) == 1
    monkeypatch.delenv("RELAYSTACK_RECORD_MODE")
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=1)


def test_a_recording_mode_without_a_directory_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing=INI_TEST)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--relaystack-record-mode", "replay"
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*relaystack: set --relaystack-recordings (or the ini value)*"])

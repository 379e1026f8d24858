"""The pytest plugin, used the way a user's suite would: record once, replay offline."""

from __future__ import annotations

import json
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

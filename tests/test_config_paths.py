"""Configuration and command-line paths a user meets once, each pinned as it is said:
key sources, recording mode and directory from flags, the environment or the file,
files that are not configurations, and a database that is not there at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from relaystack.app import build_app
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread, free_port
from tests.support.stack import stack_config

PROVIDER = (
    "providers:\n"
    "  - id: up\n"
    "    type: openai-compatible\n"
    "    base_url: http://127.0.0.1:9/v1\n"
    "    models: [m]\n"
)


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELAYSTACK_")}
    return {**clean, **extra}


def relaystack(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaystack", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(**env),
        check=False,
    )


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relaystack.yaml"
    path.write_text(text + f"storage:\n  url: sqlite:///{tmp_path / 'state.db'}\n")
    return path


def one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("relaystack: bad configuration: ")
    return lines[0]


# ----- files that are not configurations -------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- a\n- b\n", "must be a mapping at the top level"),
        ("providers: [\n", "is not valid YAML"),
        ("just words\n", "must be a mapping at the top level"),
    ],
    ids=["a list", "broken YAML", "a scalar"],
)
def test_a_file_that_is_not_a_configuration_is_one_line(
    tmp_path: Path, text: str, said: str
) -> None:
    path = tmp_path / "relaystack.yaml"
    path.write_text(text)
    assert said in one_line_refusal(relaystack("check", "--config", str(path)))


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    line = one_line_refusal(relaystack("check", "--config", str(tmp_path / "missing.yaml")))
    assert "cannot read" in line and "No such file" in line
    line = one_line_refusal(relaystack("check", "--config", str(tmp_path)))
    assert "cannot read" in line and "Is a directory" in line


# ----- provider keys ----------------------------------------------------------------


def test_api_key_and_api_key_env_together_are_refused(tmp_path: Path) -> None:
    path = config_file(tmp_path, PROVIDER + "    api_key: sk-a\n    api_key_env: UP_KEY\n")
    line = one_line_refusal(relaystack("check", "--config", str(path)))
    assert "providers.0: give api_key or api_key_env, not both" in line
    assert "sk-a" not in line


@pytest.mark.parametrize("source", ["api_key", "api_key_env", "none"])
def test_the_upstream_gets_the_key_from_its_source(
    upstream: MockUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.setenv("RELAYSTACK_TEST_UP_KEY", "sk-from-env")
    provider = {"id": "openai", "type": "openai-compatible", "base_url": upstream.base_url}
    if source == "api_key":
        provider["api_key"] = "sk-in-file"
    elif source == "api_key_env":
        provider["api_key_env"] = "RELAYSTACK_TEST_UP_KEY"
    config = stack_config(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'state.db'}",
        providers=[{**provider, "models": ["gpt-4o"]}],
    )
    with ServerThread(build_app(config)) as thread:
        reply = httpx.post(
            f"{thread.url}/v1/responses", json={"model": "openai/gpt-4o", "input": "hi"}
        )
    assert reply.status_code == 200, reply.text
    sent = upstream.headers[-1].get("authorization")
    expected = {"api_key": "Bearer sk-in-file", "api_key_env": "Bearer sk-from-env"}
    assert sent == expected.get(source)


# ----- recording mode and directory ------------------------------------------------


def test_record_mode_without_a_directory_is_refused(tmp_path: Path) -> None:
    path = config_file(tmp_path, PROVIDER + "recording:\n  mode: record\n")
    line = one_line_refusal(relaystack("check", "--config", str(path)))
    assert "recording: mode 'record' needs a directory" in line
    plain = config_file(tmp_path, PROVIDER)
    line = one_line_refusal(
        relaystack("check", "--config", str(plain), RELAYSTACK_RECORD_MODE="record")
    )
    assert "needs a directory" in line


def test_an_unknown_record_mode_in_the_environment_is_refused(tmp_path: Path) -> None:
    path = config_file(tmp_path, PROVIDER)
    line = one_line_refusal(
        relaystack("check", "--config", str(path), RELAYSTACK_RECORD_MODE="sometimes")
    )
    assert "recording:" in line and "'record-if-missing'" in line


def test_the_environment_sets_the_recording_mode_and_directory(tmp_path: Path) -> None:
    path = config_file(tmp_path, PROVIDER)
    recordings = tmp_path / "recordings"
    result = relaystack(
        "check",
        "--config",
        str(path),
        RELAYSTACK_RECORD_MODE="record-if-missing",
        RELAYSTACK_RECORDINGS_DIR=str(recordings),
    )
    assert result.returncode == 0, result.stderr
    assert f"recording: record-if-missing {recordings}" in result.stdout
    implied = relaystack("check", "--config", str(path), RELAYSTACK_RECORDINGS_DIR=str(recordings))
    assert f"recording: replay {recordings}" in implied.stdout


def _banner(*args: str, **env: str) -> str:
    """``serve`` started with ``args`` until its banner; the banner line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "relaystack", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=_env(**env),
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line or "listening on" in line:
                return line
        return ""
    finally:
        process.terminate()  # only the process this test started
        process.wait(timeout=20)


def test_serve_flags_set_the_recording_mode_and_win_over_the_environment(
    tmp_path: Path,
) -> None:
    path = config_file(tmp_path, PROVIDER)
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    banner = _banner(
        "--config",
        str(path),
        "--record-mode",
        "record",
        "--recordings",
        str(recordings),
        RELAYSTACK_RECORD_MODE="replay",
        RELAYSTACK_RECORDINGS_DIR=str(tmp_path / "elsewhere"),
    )
    assert f"recording: record {recordings}" in banner
    from_env = _banner(
        "--config",
        str(path),
        RELAYSTACK_RECORD_MODE="record",
        RELAYSTACK_RECORDINGS_DIR=str(recordings),
    )
    assert f"recording: record {recordings}" in from_env


# ----- the database at start-up ----------------------------------------------------


def test_postgres_unreachable_at_start_up_is_one_line(tmp_path: Path) -> None:
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing_here"
    path = tmp_path / "relaystack.yaml"
    path.write_text(PROVIDER + f"storage:\n  url: {nobody}\n")
    result = relaystack("serve", "--config", str(path), "--port", "0")
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("relaystack: cannot start: "), result.stderr
    assert "Traceback" not in result.stderr
    check = relaystack("check", "--config", str(path))
    assert check.returncode == 1
    assert "storage: postgresql://postgres@127.0.0.1" in check.stdout
    assert "cannot open" in check.stdout

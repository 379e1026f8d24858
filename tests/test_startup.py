"""``relaystack serve`` and ``check`` at start-up, run as a user runs them: the port,
the recording mode and directory, and the storage, each said in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

UPSTREAM = "http://127.0.0.1:9/v1"  # discard port: nothing answers, nothing is asked


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RELAYSTACK_")}


def relaystack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaystack", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        check=False,
    )


def write_config(tmp_path: Path, models: bool = True, storage: str | None = None) -> Path:
    path = tmp_path / "relaystack.yaml"
    storage = storage or f"sqlite:///{tmp_path / 'state.db'}"
    path.write_text(
        "providers:\n"
        "  - id: up\n"
        "    type: openai-compatible\n"
        f"    base_url: {UPSTREAM}\n"
        + ("    models: [m]\n" if models else "")
        + f"storage:\n  url: {storage}\n"
    )
    return path


@contextmanager
def serving(*args: str) -> Iterator[list[str]]:
    """``relaystack serve ...`` until its banner is out; yields its stderr lines."""
    process = subprocess.Popen(
        [sys.executable, "-m", "relaystack", "serve", "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=_env(),
    )
    lines: list[str] = []
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("serving models" in x for x in lines):
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
        yield lines
    finally:
        process.terminate()  # only the process this test started
        process.wait(timeout=20)


def test_a_port_in_use_is_one_line_naming_it_and_no_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = relaystack("serve", "--config", str(write_config(tmp_path)), "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"relaystack: cannot start: cannot listen on 127.0.0.1 port {port}: Address already in use"
    ]
    assert not (tmp_path / "state.db").exists(), "nothing may start before the port is ours"


def test_the_banner_names_the_real_port_and_the_recording_mode(tmp_path: Path) -> None:
    with serving("--config", str(write_config(tmp_path))) as lines:
        banner, models = lines[-2:]
    assert banner.startswith("relaystack 0.1.0 listening on http://127.0.0.1:")
    port = int(banner.split("127.0.0.1:")[1].split("/")[0])
    assert port != 0
    assert banner.endswith("| recording: live (nothing recorded or replayed)")
    assert models == "relaystack: serving models up/m"


def test_a_recordings_directory_without_a_mode_means_replay(tmp_path: Path) -> None:
    recordings = tmp_path / "recs"
    recordings.mkdir()
    with serving("--config", str(write_config(tmp_path)), "--recordings", str(recordings)) as out:
        assert out[-2].endswith(f"| recording: replay {recordings}")


@pytest.mark.parametrize("models", [True, False], ids=["models-listed", "models-discovered"])
def test_replay_without_its_directory_does_not_start(tmp_path: Path, models: bool) -> None:
    missing = tmp_path / "recs"
    config = write_config(tmp_path, models=models)
    result = relaystack(
        "serve", "--config", str(config), "--port", "0", "--record-mode", "replay",
        "--recordings", str(missing),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"relaystack: cannot start: recording.directory: {missing} is not a directory "
        "(replay mode answers only from the recordings in it)"
    ]


def test_check_opens_the_storage_and_says_whether_it_works(tmp_path: Path) -> None:
    good = relaystack("check", "--config", str(write_config(tmp_path)))
    assert good.returncode == 0, good.stderr
    assert f"storage: sqlite:///{tmp_path / 'state.db'} (opens)" in good.stdout.splitlines()

    directory = tmp_path / "a-directory"  # a database file that cannot be opened
    directory.mkdir()
    bad = relaystack(
        "check", "--config", str(write_config(tmp_path, storage=f"sqlite:///{directory}"))
    )
    assert bad.returncode == 1
    (line,) = [line for line in bad.stdout.splitlines() if line.startswith("storage:")]
    assert line == f"storage: sqlite:///{directory} (cannot open: unable to open database file)"
    assert "Background on this error" not in bad.stdout + bad.stderr


def test_serve_says_an_unopenable_database_in_one_line(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    config = write_config(tmp_path, storage=f"sqlite:///{directory}")
    result = relaystack("serve", "--config", str(config), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"relaystack: cannot start: storage.url: cannot open sqlite:///{directory}: "
        "unable to open database file"
    ]

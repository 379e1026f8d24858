"""The SQLite file's disk fills up or turns read-only under a running server: turns that
cannot be stored end with a clear error, nothing half-written is left, the database stays
sound, and the server stores turns again once the disk is back.

The disk is a small tmpfs mounted for the test, which needs root (as CI has)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import newest, serving, stored
from tests.support.mock_upstream import MockUpstream
from tests.support.sse import stream_events
from tests.support.stack import ServeProcess, stack_settings

MODEL = "openai/gpt-4o"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    try:
        _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk))
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"this machine cannot mount a tmpfs: {exc.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)


@pytest.fixture
def disk_server(
    small_disk: Path, upstream: MockUpstream, tmp_path: Path
) -> Iterator[tuple[ServeProcess, Path]]:
    database = small_disk / "state.db"
    settings = stack_settings(upstream.base_url, f"sqlite:///{database}")
    # The config and the log live off the small disk: only the database is on it.
    with serving(tmp_path / "serve", settings) as process:
        yield process, database


def _turn(base_url: str, text: str) -> httpx.Response:
    return httpx.post(f"{base_url}/responses", json={"model": MODEL, "input": text}, timeout=60)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler


def _sound(database: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [row[0] for row in connection.execute("SELECT id FROM responses ORDER BY id")]


def _refused_cleanly(base_url: str, text: str) -> None:
    """A turn the store cannot keep: a 500 (JSON) or response.failed (stream) in the
    envelope, and no trace of it in the store."""
    before = newest(base_url)
    reply = _turn(base_url, f"json {text}")
    assert reply.status_code == 500, reply.text
    error = reply.json()["error"]
    assert error["type"] == "server_error" and "stor" in error["message"]
    events = stream_events(base_url, {"model": MODEL, "input": f"stream {text}"})
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["error"]["code"] == "server_error"
    assert stored(base_url, events[-1]["response"]["id"]) is None
    assert newest(base_url) == before


def test_a_full_disk_refuses_turns_cleanly_and_recovers(
    disk_server: tuple[ServeProcess, Path], small_disk: Path
) -> None:
    process, database = disk_server
    kept = _turn(process.url, "before the disk fills")
    assert kept.status_code == 200, kept.text
    filler = _fill(small_disk)
    # Enough turns that the write-ahead log must grow past the pages it already has.
    for n in range(5):
        _refused_cleanly(process.url, f"while full {n}")
    assert stored(process.url, kept.json()["id"])["status"] == "completed"
    filler.unlink()
    again = _turn(process.url, "after the disk has room")
    assert again.status_code == 200, again.text
    assert stored(process.url, again.json()["id"])["status"] == "completed"
    process.stop()
    assert _sound(database) == sorted([kept.json()["id"], again.json()["id"]])


def _immutable(paths: list[Path], on: bool) -> None:
    """chattr +i: not even root may write to them (the nearest a test gets to a disk
    turning read-only under open files: a busy mount cannot be remounted read-only)."""
    subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True)


@pytest.fixture
def immutable_server(upstream: MockUpstream, tmp_path: Path) -> Iterator[tuple[ServeProcess, Path]]:
    state = tmp_path / "state"
    state.mkdir()
    probe = state / "probe"
    probe.touch()
    try:
        _immutable([probe], True)
    except (subprocess.CalledProcessError, FileNotFoundError):
        pytest.skip("this file system cannot mark files immutable (chattr +i)")
    _immutable([probe], False)
    probe.unlink()
    database = state / "state.db"
    settings = stack_settings(upstream.base_url, f"sqlite:///{database}")
    with serving(tmp_path / "serve", settings) as process:
        yield process, database


def test_a_read_only_database_refuses_turns_cleanly_and_recovers(
    immutable_server: tuple[ServeProcess, Path],
) -> None:
    process, database = immutable_server
    kept = _turn(process.url, "before read-only")
    assert kept.status_code == 200, kept.text
    # Not the -shm index: SQLite writes it through a memory map, and a write to a mapped
    # page of an immutable file is a SIGBUS, which says nothing about relaystack.
    files = [database.parent, *database.parent.iterdir()]
    files = [path for path in files if not path.name.endswith("-shm")]
    _immutable(files, True)
    try:
        for n in range(3):
            _refused_cleanly(process.url, f"while read-only {n}")
        assert stored(process.url, kept.json()["id"])["status"] == "completed"
    finally:
        _immutable(files, False)
    again = _turn(process.url, "writable again")
    assert again.status_code == 200, again.text
    process.stop()
    assert _sound(database) == sorted([kept.json()["id"], again.json()["id"]])

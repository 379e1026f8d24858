"""``relaystack recordings list|show|verify|prune`` on the seed fixtures and fresh recordings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relaystack.recordings_cli import main
from tests.recording.helpers import (
    FIXTURES,
    SEED_TEST_ID,
    MockUpstream,
    make_client,
    using_test_id,
)

TEST_ID = "tests/recording/test_recording_cli.py::demo"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["recordings", *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def _record(
    upstream: MockUpstream, directory: Path, *contents: str, run_log: Path | None = None
) -> None:
    client, _ = make_client("record", directory, upstream.base_url, run_log=run_log)
    async with client:
        with using_test_id(TEST_ID):
            for content in contents:
                body = {"model": "mock-model", "messages": [{"role": "user", "content": content}]}
                await client.post("/chat/completions", json=body)


def test_list_shows_one_row_per_recording(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "list", str(FIXTURES))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["KEY", "ENDPOINT", "MODEL", "STREAM", "SIZE", "TEST", "ID"]
    rows = [line.split() for line in lines[1:3]]
    assert [row[0] for row in rows] == ["cd222f01d7ea", "d058ce92a083"]
    for row in rows:
        assert row[1:4] == ["/v1/chat/completions", "gpt-4o", "yes"]
        assert row[-1] == SEED_TEST_ID
    assert lines[-1].startswith("2 recording(s)")


def test_show_renders_the_conversation(
    capsys: pytest.CaptureFixture[str], fixture_files: list[Path]
) -> None:
    code, out = run(capsys, "show", "cd222f01", "--dir", str(FIXTURES))
    assert code == 0
    assert "[user] Which planet has rings around it with a name starting with letter S?" in out
    assert (
        '[assistant] The planet with rings around it that starts with the letter "S" is Saturn.'
        in out
    )
    assert "[user] Repeat your previous response in all caps." in out
    assert (
        '[assistant] THE PLANET WITH RINGS AROUND IT THAT STARTS WITH THE LETTER "S" IS SATURN. '
        "SATURN IS WELL KNOWN FOR ITS PROMINENT AND EXTENSIVE RING SYSTEM." in out
    )
    assert "finish_reason: stop" in out and "usage: 66 prompt, 41 completion, 107 total" in out

    first = next(p for p in fixture_files if p.name.startswith("d058"))
    code, out = run(capsys, "show", str(first))
    assert code == 0 and "usage: 21 prompt, 29 completion, 50 total" in out

    code, out = run(capsys, "show", "ffff", "--dir", str(FIXTURES))
    assert code == 1 and "no recording matches" in out


async def test_show_assembles_streamed_tool_calls(
    rec_upstream: MockUpstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def chunk(delta: dict, finish: str | None = None) -> dict:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [choice],
        }

    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    rec_upstream.stream_script = [
        chunk({"role": "assistant", "tool_calls": [call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    client, _ = make_client("record", tmp_path, rec_upstream.base_url)
    body = {
        "model": "m",
        "stream": True,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    }
    async with client:
        with using_test_id(TEST_ID):
            await (await client.post("/chat/completions", json=body)).aread()
    (path,) = tmp_path.iterdir()
    code, out = run(capsys, "show", path.name[:10], "--dir", str(tmp_path))
    assert code == 0
    assert "[user] Weather in Paris?" in out and "tools: get_weather" in out
    assert '[assistant] -> get_weather({"city": "Paris"}) id=call_1' in out
    assert "finish_reason: tool_calls" in out


def test_verify_accepts_the_fixtures_via_python_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relaystack.recordings_cli", "recordings", "verify", str(FIXTURES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"OK: 2 recording(s) in {FIXTURES}"


async def test_verify_reports_every_problem(
    rec_upstream: MockUpstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _record(rec_upstream, tmp_path, "one", "two")
    good, other = sorted(tmp_path.iterdir())
    code, out = run(capsys, "verify", str(tmp_path))
    assert code == 0 and out.startswith("OK: 2 recording(s)")

    wrong_name = tmp_path / (("0" * 64) + ".json")
    other.rename(wrong_name)
    (tmp_path / ("1" * 64 + ".json")).write_text("{ not json")
    (tmp_path / "notes.json").write_text("{}")
    data = json.loads(good.read_text())
    del data["response"]["is_streaming"]
    good.write_text(json.dumps(data, indent=2) + "\n")

    code, out = run(capsys, "verify", str(tmp_path))
    assert code == 1
    assert f"{wrong_name.name}: the request hashes to {other.stem}" in out
    assert f"{'1' * 64}.json: does not parse" in out
    assert "notes.json: not a recording file name" in out
    assert f"{good.name}: response needs body and is_streaming" in out
    assert "4 problem(s) in 4 file(s)" in out


async def test_prune_deletes_what_the_run_did_not_use(
    rec_upstream: MockUpstream, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory, log = tmp_path / "rec", tmp_path / "run.log"
    await _record(rec_upstream, directory, "stale")
    (stale,) = directory.iterdir()
    await _record(rec_upstream, directory, "kept 1", "kept 2", run_log=log)
    assert len(log.read_text().splitlines()) == 2

    code, out = run(capsys, "prune", str(directory), "--unused-since", str(log), "--dry-run")
    assert code == 0 and f"would delete {stale.name}" in out and "1 of 3 recording(s)" in out
    assert stale.exists()

    code, out = run(capsys, "prune", str(directory), "--unused-since", str(log))
    assert code == 0 and f"deleted {stale.name}" in out
    assert not stale.exists() and len(list(directory.iterdir())) == 2

    log.write_text("")
    code, out = run(capsys, "prune", str(directory), "--unused-since", str(log))
    assert code == 1 and "refusing" in out and len(list(directory.iterdir())) == 2
    code, out = run(capsys, "prune", str(directory), "--unused-since", str(tmp_path / "none.log"))
    assert code == 1 and "no such run log" in out


def relaystack(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a user types it, in a process of its own."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RELAYSTACK_")}
    return subprocess.run(
        [sys.executable, "-m", "relaystack", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**environ, **(env or {})},
        check=False,
    )


def test_show_finds_a_key_in_the_configured_or_current_directory(tmp_path: Path) -> None:
    key = "cd222f01d7ea"  # as `list` prints it
    expected = "[user] Repeat your previous response in all caps."

    here = relaystack("recordings", "show", key, cwd=FIXTURES)
    assert here.returncode == 0, here.stderr
    assert expected in here.stdout

    from_env = relaystack(
        "recordings", "show", key, cwd=tmp_path, env={"RELAYSTACK_RECORDINGS_DIR": str(FIXTURES)}
    )
    assert from_env.returncode == 0, from_env.stderr
    assert expected in from_env.stdout

    config = tmp_path / "relaystack.yaml"
    config.write_text(f"recording:\n  mode: replay\n  directory: {FIXTURES}\n")
    from_config = relaystack("recordings", "show", key, "--config", str(config), cwd=tmp_path)
    assert from_config.returncode == 0, from_config.stderr
    assert expected in from_config.stdout

    elsewhere = relaystack("recordings", "show", key, cwd=tmp_path)
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.strip() == (f"no recording matches {key!r} in . (--dir names another)")


@pytest.mark.parametrize("command", ["list", "verify", "prune"])
def test_every_command_refuses_a_missing_directory_alike(command: str, tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("x.json\n")
    extra = ["--unused-since", str(log)] if command == "prune" else []
    missing = tmp_path / "nowhere"
    result = relaystack("recordings", command, str(missing), *extra)
    assert result.returncode == 1
    assert result.stderr.strip() == f"{missing}: not a directory"
    assert result.stdout == ""


async def test_prune_refuses_a_log_of_a_partial_run(
    rec_upstream: MockUpstream, tmp_path: Path
) -> None:
    directory, log = tmp_path / "rec", tmp_path / "run.log"
    await _record(rec_upstream, directory, "stale")
    await _record(rec_upstream, directory, "kept", run_log=log)
    files = sorted(directory.iterdir())

    with log.open("a") as f:  # as the pytest plugin ends a run that was not whole
        f.write("# run partial: 1 failed, 3 deselected\n# run complete: 4 tests\n")
    result = relaystack("recordings", "prune", str(directory), "--unused-since", str(log))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{log}: covers a partial run (1 failed, 3 deselected); refusing to prune. "
        "Delete the log, run the whole suite, then prune."
    )
    assert sorted(directory.iterdir()) == files

    # A log nothing marked (written by a server, say) prunes, with a loud warning.
    log.write_text("\n".join(line for line in log.read_text().splitlines() if "#" not in line))
    result = relaystack("recordings", "prune", str(directory), "--unused-since", str(log))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"WARNING: {log} does not say its run was complete")
    assert "1 of 2 recording(s) unused (deleted)" in result.stdout
    assert len(list(directory.iterdir())) == 1

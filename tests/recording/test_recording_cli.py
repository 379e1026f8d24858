"""``relaystack recordings list|show|verify|prune`` on the seed fixtures and fresh recordings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from relaystack.recording.cli import main
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
        [sys.executable, "-m", "relaystack.recording.cli", "recordings", "verify", str(FIXTURES)],
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

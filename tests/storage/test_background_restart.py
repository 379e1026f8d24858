"""A background job outlives its process on SQLite: ``kill -9`` mid-turn, or a SIGTERM
whose grace is shorter than the turn, then a restart on the same database."""

from __future__ import annotations

import signal
from pathlib import Path

import openai

from tests.storage.test_background import MODEL, wait_for_status, wait_until_ended
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import free_port
from tests.support.stack import ServeProcess, stack_settings, write_config

LONG_TURN = [f"w{i} " for i in range(600)]  # 30 s at 0.05 s a chunk


def _config(upstream: MockUpstream, tmp_path: Path, **server: object) -> Path:
    settings = stack_settings(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'state.db'}",
        background={"lease_seconds": 2, "concurrency": 1},
        server=server,
    )
    return write_config(tmp_path / "relaystack.yaml", settings)


def _start(config: Path, log: Path) -> tuple[ServeProcess, openai.OpenAI]:
    process = ServeProcess(config, free_port(), log)
    process.wait_ready()
    return process, openai.OpenAI(base_url=process.url, api_key="sk-unused", max_retries=0)


def test_kill_9_mid_turn_then_restart_ends_it_failed(
    upstream: MockUpstream, tmp_path: Path
) -> None:
    config = _config(upstream, tmp_path)
    first, client = _start(config, tmp_path / "first.log")
    try:
        upstream.queue(Reply(content=LONG_TURN, delay=0.05))
        running = client.responses.create(model=MODEL, input="long", background=True)
        wait_for_status(client, running.id, "in_progress")
        queued = client.responses.create(model=MODEL, input="after it", background=True)
        first.process.kill()
        first.process.wait(timeout=10)
    finally:
        first.stop()

    second, client = _start(config, tmp_path / "second.log")
    try:
        events = list(client.responses.retrieve(running.id, stream=True))
        assert [event.sequence_number for event in events] == list(range(len(events)))
        assert events[-1].type == "response.failed"
        ended = client.responses.retrieve(running.id)
        assert ended.status == "failed"
        assert ended.error is not None and "stopped before it finished" in ended.error.message
        # The job that was still queued lost nothing: the restarted server runs it.
        assert wait_until_ended(client, queued.id).output_text == "echo: after it"
    finally:
        second.stop()


def test_sigterm_with_a_turn_longer_than_the_grace(upstream: MockUpstream, tmp_path: Path) -> None:
    config = _config(upstream, tmp_path, shutdown_grace=1)
    first, client = _start(config, tmp_path / "first.log")
    try:
        upstream.queue(Reply(content=LONG_TURN, delay=0.05))
        running = client.responses.create(model=MODEL, input="long", background=True)
        wait_for_status(client, running.id, "in_progress")
        queued = client.responses.create(model=MODEL, input="after it", background=True)
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=20) == 0
    finally:
        first.stop()

    second, client = _start(config, tmp_path / "second.log")
    try:
        ended = client.responses.retrieve(running.id)
        assert ended.status == "failed"
        assert ended.error is not None and "shut down" in ended.error.message
        # What it had generated is kept, as for a cancelled turn.
        words = ended.output_text.split()
        assert 0 < len(words) < len(LONG_TURN)
        assert words == [f"w{i}" for i in range(len(words))]
        events = list(client.responses.retrieve(running.id, stream=True))
        assert events[-1].type == "response.failed"
        assert [event.sequence_number for event in events] == list(range(len(events)))
        assert wait_until_ended(client, queued.id).output_text == "echo: after it"
    finally:
        second.stop()

"""SIGTERM under load: ``relaystack serve`` stops accepting, lets running turns finish,
stores them, closes the store and exits 0; nothing answered 200 is missing."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import openai

from relaystack.app import build_app
from tests.storage.test_background import MODEL, wait_until_ended
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread, free_port
from tests.support.stack import ServeProcess, stack_config, stack_settings, write_config

CLIENTS = 8


def test_sigterm_during_load_loses_no_answered_turn(upstream: MockUpstream, tmp_path: Path) -> None:
    storage_url = f"sqlite:///{tmp_path / 'state.db'}"
    settings = stack_settings(upstream.base_url, storage_url, server={"shutdown_grace": 15})
    config = write_config(tmp_path / "relaystack.yaml", settings)
    # Every turn streams for about half a second, so turns are running at the signal.
    upstream.queue(*[Reply(content=["a", " b", " c", " d", " e"], delay=0.1)] * 500)
    server = ServeProcess(config, free_port(), tmp_path / "serve.log")
    answered: list[tuple[str, bool, float]] = []  # id, background, when
    lock = threading.Lock()

    def load(client: openai.OpenAI, number: int) -> None:
        turn = 0
        while server.process.poll() is None:
            background = (number + turn) % 4 == 0
            turn += 1
            try:
                response = client.responses.create(
                    model=MODEL, input=f"client {number} turn {turn}", background=background
                )
            except (openai.APIConnectionError, openai.APIStatusError):
                time.sleep(0.05)  # refused while stopping: not answered, nothing owed
                continue
            with lock:
                answered.append((response.id, background, time.monotonic()))

    try:
        server.wait_ready()
        clients = [
            openai.OpenAI(base_url=server.url, api_key="sk-unused", max_retries=0, timeout=30)
            for _ in range(CLIENTS)
        ]
        threads = [
            threading.Thread(target=load, args=(client, n)) for n, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0, server.log_file.read_text()
        for thread in threads:
            thread.join(timeout=40)
    finally:
        server.stop()

    foreground = [(rid, when) for rid, background, when in answered if not background]
    assert len(foreground) >= CLIENTS
    # Turns running at the signal were let finish (and were answered) before the exit.
    assert any(when > signalled for _, when in foreground)

    # A fresh server on the same database finds every answered turn.
    upstream.reset()
    with ServerThread(build_app(stack_config(upstream.base_url, storage_url))) as thread:
        client = openai.OpenAI(base_url=f"{thread.url}/v1", api_key="sk-unused", max_retries=0)
        for response_id, background, _ in answered:
            stored = client.responses.retrieve(response_id)
            if not background:
                assert stored.status == "completed", response_id
                assert stored.output_text == "a b c d e"
                continue
            # Queued jobs run now; a running one had the grace to finish.
            ended = wait_until_ended(client, response_id)
            assert ended.status == "completed", (response_id, ended.error)

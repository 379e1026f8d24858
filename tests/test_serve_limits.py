"""``relaystack serve`` hands the connection limits of ``server:`` to uvicorn."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import free_port
from tests.support.stack import ServeProcess, stack_settings, write_config


def test_limit_concurrency_answers_503_beyond_it(upstream: MockUpstream, tmp_path: Path) -> None:
    settings = stack_settings(
        upstream.base_url,
        f"sqlite:///{tmp_path / 'state.db'}",
        server={"limit_concurrency": 2, "keep_alive_timeout": 1},
    )
    process = ServeProcess(
        write_config(tmp_path / "config.yaml", settings), free_port(), tmp_path / "serve.log"
    )
    try:
        process.wait_ready()
        upstream.queue(Reply(content=["slow", " answer"], delay=1.5))
        body = {"model": "openai/gpt-4o", "input": "take your time"}
        slow = threading.Thread(
            target=httpx.post,
            args=(f"{process.url}/responses",),
            kwargs={"json": body, "timeout": 30},
        )
        slow.start()
        try:
            upstream_started = False
            for _ in range(100):
                if upstream.requests:
                    upstream_started = True
                    break
                threading.Event().wait(0.02)
            assert upstream_started
            refused = httpx.get(f"{process.url}/models", timeout=10)
        finally:
            slow.join()
        assert refused.status_code == 503
        assert httpx.get(f"{process.url}/models", timeout=10).status_code == 200
    finally:
        process.stop()

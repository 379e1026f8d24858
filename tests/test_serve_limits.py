"""``relaystack serve`` hands the connection limits of ``server:`` to uvicorn."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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


@pytest.fixture(scope="module")
def head_timeout_server(
    upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    directory = tmp_path_factory.mktemp("head-timeout")
    settings = stack_settings(
        upstream.base_url,
        f"sqlite:///{directory / 'state.db'}",
        server={"header_timeout": 1, "keep_alive_timeout": 30},
    )
    process = ServeProcess(
        write_config(directory / "config.yaml", settings), free_port(), directory / "serve.log"
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _read_until_closed(sock: socket.socket, limit: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``limit`` passes:
    then the test fails on what was read)."""
    sock.settimeout(limit)
    received = b""
    with contextlib.suppress(TimeoutError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _trickle(sock: socket.socket, data: bytes, pause: float, limit: float) -> bool:
    """Send ``data`` a byte at a time; False once the server has closed the connection."""
    started = time.monotonic()
    for byte in data:
        if time.monotonic() - started > limit:
            return True
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return False
        time.sleep(pause)
    return True


SLOW_HEAD = (
    b"POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    + b"".join(b"X-Padding-%d: %s\r\n" % (n, b"x" * 20) for n in range(40))
    + b"\r\n"
)


def test_a_client_sending_its_headers_slowly_is_cut_off(
    head_timeout_server: ServeProcess,
) -> None:
    with socket.create_connection(("127.0.0.1", head_timeout_server.port)) as sock:
        # 0.05 s a byte: the whole head would take a minute; the deadline is 1 s.
        _trickle(sock, SLOW_HEAD, pause=0.05, limit=10)
        answer = _read_until_closed(sock, limit=10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "request_timeout"
    assert "header_timeout" in body["error"]["message"]


def test_a_connection_that_sends_nothing_is_closed(head_timeout_server: ServeProcess) -> None:
    with socket.create_connection(("127.0.0.1", head_timeout_server.port)) as sock:
        answer = _read_until_closed(sock, limit=10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_the_next_request_on_a_kept_alive_connection_has_the_same_deadline(
    head_timeout_server: ServeProcess,
) -> None:
    health = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", head_timeout_server.port)) as sock:
        sock.sendall(health)
        sock.settimeout(10)
        first = b""
        while not first.endswith(b'{"status":"OK"}'):
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 "), first[:200]
        _trickle(sock, SLOW_HEAD, pause=0.05, limit=10)
        answer = _read_until_closed(sock, limit=10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_a_head_sent_in_pieces_within_the_deadline_is_served(
    head_timeout_server: ServeProcess,
) -> None:
    head = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", head_timeout_server.port)) as sock:
        for piece in (head[:10], head[10:30], head[30:]):
            sock.sendall(piece)
            time.sleep(0.2)
        answer = _read_until_closed(sock, limit=10)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert answer.endswith(b'{"status":"OK"}')

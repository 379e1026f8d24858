"""A mock OpenAI-compatible upstream that is never the bottleneck.

Raw asyncio protocol + httptools parser (+ uvloop when present), answers from
precomputed bytes. Serves:

- ``POST /v1/chat/completions``: JSON, or SSE when ``"stream": true`` (``--chunks``
  content chunks, a finish chunk, a usage chunk, ``data: [DONE]``; ``--delay``
  seconds between chunks)
  Offered ``tools`` with no ``tool`` message last, it calls ``add`` instead (JSON or
  SSE): the first of the two upstream calls of an MCP turn; the second gets the text.
  Offered a ``file_search`` function, it calls that (with a fixed query) instead.
- ``POST /v1/embeddings``, ``GET /v1/models``
- ``GET /mock/stats``: request counters (for checking a proxy really called us)

Run: ``python -m bench.mock_upstream --port 9100 [--chunks 40] [--delay 0]`` from the
repository root, or ``python bench/mock_upstream.py ...`` from anywhere.
Loopback only: the host must be a 127.x / ::1 / localhost address.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

import httptools
import orjson

if not __package__:
    # Run as a file: put the repository root on the path, so that ``bench`` imports
    # as it does under ``python -m bench.mock_upstream``.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.mock_payloads import MockShape, PayloadCache, error_response, json_response
from bench.netguard import require_loopback

Reply = bytes | tuple[bytes, list[bytes]]


class MockApp:
    """Routing and request counters; turns a parsed request into reply bytes."""

    def __init__(self, shape: MockShape, model_ids: list[str]) -> None:
        self.shape = shape
        self.payloads = PayloadCache(shape, model_ids)
        self.counts: collections.Counter[str] = collections.Counter()

    def handle(self, method: bytes, path: bytes, body: bytes) -> Reply:
        path = path.split(b"?", 1)[0]
        self.counts[path.decode("latin-1")] += 1
        if path == b"/v1/chat/completions":
            return self._chat(method, body)
        if path == b"/v1/embeddings":
            return self._embeddings(method, body)
        if path == b"/v1/models" and method == b"GET":
            return self.payloads.models_bytes
        if path == b"/mock/stats" and method == b"GET":
            return json_response(
                {
                    "counts": dict(self.counts),
                    "chunks": self.shape.chunks,
                    "delay": self.shape.delay,
                }
            )
        if path in (b"/health", b"/v1/health"):
            return json_response({"status": "ok"})
        return error_response(404, f"no route {path.decode('latin-1')}")

    def _parse(self, method: bytes, body: bytes) -> dict[str, object] | bytes:
        if method != b"POST":
            return error_response(405, "use POST")
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error_response(400, "body is not JSON")
        if not isinstance(req, dict):
            return error_response(400, "body must be a JSON object")
        return req

    def _chat(self, method: bytes, body: bytes) -> Reply:
        req = self._parse(method, body)
        if isinstance(req, bytes):
            return req
        model = str(req.get("model") or "mock-model")
        if wants_tool_call(req):
            return self.payloads.tool_call(model, bool(req.get("stream")), tool_to_call(req))
        if req.get("stream"):
            head, frames, whole = self.payloads.chat_stream(model)
            return whole if self.shape.delay <= 0 else (head, frames)
        return self.payloads.chat_json(model)

    def _embeddings(self, method: bytes, body: bytes) -> Reply:
        req = self._parse(method, body)
        if isinstance(req, bytes):
            return req
        inp = req.get("input")
        count = len(inp) if isinstance(inp, list) and inp and not isinstance(inp[0], int) else 1
        return self.payloads.embeddings(str(req.get("model") or "mock-embed"), count)


def wants_tool_call(req: dict[str, object]) -> bool:
    """Offered tools and not answering a tool result: the model's turn to call one."""
    messages = req.get("messages")
    if not req.get("tools") or not isinstance(messages, list) or not messages:
        return False
    last = messages[-1]
    return not (isinstance(last, dict) and last.get("role") == "tool")


def tool_to_call(req: dict[str, object]) -> str:
    """``file_search`` when it is offered (the file-search workloads), else ``add``."""
    tools = req.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("name") == "file_search":
            return "file_search"
    return "add"


class MockProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; replies strictly in request order."""

    def __init__(self, app: MockApp) -> None:
        self.app = app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.pending: collections.deque[tuple[Reply, bool]] = collections.deque()
        self.writer: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport: cast, don't check.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(error_response(400, "bad HTTP request"))
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.writer is not None:
            self.writer.cancel()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        reply = self.app.handle(self.parser.get_method(), self.url, b"".join(self.body))
        keep_alive = self.parser.should_keep_alive()
        if self.writer is None and isinstance(reply, bytes):
            self._write(reply, keep_alive)
            return
        self.pending.append((reply, keep_alive))
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._drain())

    def _write(self, data: bytes, keep_alive: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()

    async def _drain(self) -> None:
        """Send queued replies in order; delayed streams sleep between chunks."""
        try:
            while self.pending and self.transport is not None:
                reply, keep_alive = self.pending.popleft()
                if isinstance(reply, bytes):
                    self._write(reply, keep_alive)
                    continue
                head, frames = reply
                self.transport.write(head + frames[0])
                for frame in frames[1:]:
                    await asyncio.sleep(self.app.shape.delay)
                    if self.transport is None:
                        return
                    self.transport.write(frame)
                if not keep_alive:
                    self.transport.close()
        finally:
            self.writer = None


def install_uvloop() -> bool:
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


async def serve(
    host: str, port: int, app: MockApp, ready: Callable[[int], None] | None = None
) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: MockProtocol(app), host, port, backlog=1024, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(bound)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.mock_upstream",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100, help="0 picks a free port")
    p.add_argument("--chunks", type=int, default=40, help="content chunks per stream")
    p.add_argument("--delay", type=float, default=0.0, help="seconds between stream chunks")
    p.add_argument(
        "--models", default="mock-model,mock-embed", help="comma-separated ids for GET /v1/models"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    require_loopback(args.host)
    if args.chunks < 1:
        raise SystemExit("--chunks must be >= 1")
    app = MockApp(MockShape(args.chunks, args.delay), args.models.split(","))
    uv = install_uvloop()

    def ready(port: int) -> None:
        # One line on stdout that a parent process waits for.
        print(f"MOCK READY port={port} uvloop={uv}", flush=True)

    asyncio.run(serve(args.host, args.port, app, ready))


if __name__ == "__main__":
    main()

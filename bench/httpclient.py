"""A minimal keep-alive HTTP/1.1 client on a raw asyncio protocol + httptools.

Just enough for the load generator: one request in flight per connection, the
body kept whole (so streams can be checked to their end), and the times of the
first body byte and of a caller-given "first token" marker.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import cast

import httptools


@dataclass
class Result:
    status: int = 0
    body: bytes = b""
    t_start: float = 0.0
    t_first_byte: float = 0.0
    t_first_token: float = 0.0
    t_end: float = 0.0
    keep_alive: bool = True
    headers: dict[bytes, bytes] = field(default_factory=dict)


class ClientProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.future: asyncio.Future[Result] | None = None
        self.result = Result()
        self.parts: list[bytes] = []
        self.marker = b""
        self.tail = b""
        self.closed = False
        self._header_name = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport: cast, don't check.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.future is not None and not self.future.done():
            self.future.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.future is not None and not self.future.done():
                self.future.set_exception(exc)
            if self.transport is not None:
                self.transport.close()

    def start(self, raw: bytes, marker: bytes) -> asyncio.Future[Result]:
        assert self.transport is not None and not self.closed
        loop = asyncio.get_running_loop()
        self.future = loop.create_future()
        self.result = Result(t_start=time.perf_counter())
        self.parts = []
        self.marker = marker
        self.tail = b""
        self.parser = httptools.HttpResponseParser(self)
        self.transport.write(raw)
        return self.future

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.result.headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        self.result.status = self.parser.get_status_code()
        self.result.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        now = time.perf_counter()
        res = self.result
        if not self.parts:
            res.t_first_byte = now
        self.parts.append(body)
        if self.marker and not res.t_first_token:
            window = self.tail + body
            if self.marker in window:
                res.t_first_token = now
            else:
                self.tail = window[-len(self.marker) :]

    def on_message_complete(self) -> None:
        res = self.result
        res.t_end = time.perf_counter()
        res.body = b"".join(self.parts)
        if not res.t_first_byte:
            res.t_first_byte = res.t_end
        if self.future is not None and not self.future.done():
            self.future.set_result(res)


class Connection:
    """One keep-alive connection that reconnects when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.proto: ClientProtocol | None = None

    async def _ensure(self) -> ClientProtocol:
        if self.proto is None or self.proto.closed:
            loop = asyncio.get_running_loop()
            _, proto = await loop.create_connection(ClientProtocol, self.host, self.port)
            self.proto = proto
        return self.proto

    async def request(self, raw: bytes, marker: bytes = b"", timeout: float = 60.0) -> Result:
        proto = await self._ensure()
        try:
            res = await asyncio.wait_for(proto.start(raw, marker), timeout)
        except BaseException:
            self.close()
            raise
        if not res.keep_alive:
            self.close()
        return res

    def close(self) -> None:
        if self.proto is not None and self.proto.transport is not None:
            self.proto.transport.close()
        self.proto = None


def build_request(
    method: str,
    host: str,
    port: int,
    path: str,
    body: bytes | None = None,
    api_key: str = "sk-bench",
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"host: {host}:{port}",
        f"authorization: Bearer {api_key}",
        "accept: */*",
        "user-agent: relaystack-bench",
    ]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")

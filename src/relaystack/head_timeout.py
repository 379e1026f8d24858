"""A deadline for each request's head (request line and headers), which uvicorn lacks.

uvicorn closes idle keep-alive connections, but a client that opens a connection and
then sends its headers a byte at a time (slowloris) holds it, and its file descriptor,
for as long as it likes: a few hundred such clients fill ``limit_concurrency``. This
protocol is uvicorn's httptools protocol plus a timer per request head: armed when a
connection opens, or when a read ends with a request's head begun but not complete;
disarmed once the headers are complete. When it fires, the client gets a 408 in
OpenAI's error envelope and the connection is closed. The body has its own deadline
(``server.body_timeout``).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from relaystack.wire.json import dumps


def head_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class with a ``seconds`` deadline per request head."""
    return type("HeadTimeoutProtocol", (_HeadTimeoutProtocol,), {"head_timeout": seconds})


def _timeout_answer(seconds: float) -> bytes:
    body = dumps(
        {
            "error": {
                "message": f"the request's headers did not arrive within {seconds:g} seconds "
                "(server.header_timeout)",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_timeout",
            }
        }
    )
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _HeadTimeoutProtocol(HttpToolsProtocol):
    head_timeout: float = 20.0
    _head_timer: asyncio.TimerHandle | None = None
    _head_pending = False  # a request has begun and its headers are not complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # for a connection that never sends a byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Nearly every head arrives whole in one read: a timer only for one that did
        # not, rather than one armed and cancelled for every request.
        if self._head_pending:
            self._arm_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_pending = True

    def on_headers_complete(self) -> None:
        self._head_pending = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        self.logger.info("closing a connection whose request head did not arrive in time")
        if self.cycle is None or self.cycle.response_complete:
            # Not in the middle of another (pipelined) request's answer.
            self.transport.write(_timeout_answer(self.head_timeout))
        self.transport.close()

"""The one SSE codec: frame events and chunks, and parse ``data:`` payloads back out.

Parsing follows the event-stream format (WHATWG HTML, "Server-sent events") as far as
OpenAI-compatible streams use it. Lines end in CRLF, LF or CR. ``data:`` lines (minus
one space after the colon) collect until a blank line ends the event; the event's
payload is those lines joined by LF. Comments (``:``) and ``event:``, ``id:``,
``retry:`` lines are ignored, and so is a payload of only whitespace. A ``[DONE]``
payload ends the stream: nothing after it is read. At the end of the body the last line
counts without its newline, and the last event without its blank line.

Payloads come back as undecoded bytes; the caller decides how to read the JSON.
"""

from __future__ import annotations

from typing import Any

from relaystack.wire.json import dumps

DONE = b"[DONE]"
DONE_FRAME = b"data: " + DONE + b"\n\n"


def event_frame(event: dict[str, Any]) -> bytes:
    """An event named by its ``type``, as the Responses API streams them."""
    return b"event: " + event["type"].encode() + b"\ndata: " + dumps(event) + b"\n\n"


def data_frame(payload: Any) -> bytes:
    """A nameless event, as chat completions stream their chunks."""
    return b"data: " + dumps(payload) + b"\n\n"


def payloads(body: bytes) -> list[bytes]:
    """The payloads of a complete SSE body, up to ``[DONE]``."""
    decoder = PayloadDecoder()
    return decoder.feed(body) + decoder.close()


class PayloadDecoder:
    """Payloads of an SSE body read in pieces: ``feed`` each piece, ``close`` at the end.

    Splits raw bytes into events at blank lines: decoding to text first and scanning line
    by line costs more than the rest of a chunk's journey through relaystack (this runs
    for every streamed token).
    """

    __slots__ = ("_pending", "done")

    def __init__(self) -> None:
        self._pending = b""  # the unfinished last event
        self.done = False  # ``[DONE]`` arrived

    def feed(self, piece: bytes) -> list[bytes]:
        if self.done:
            return []
        buffer = self._pending + piece if self._pending else piece
        held = b""
        if buffer.find(b"\r") != -1:  # find, not ``in``: ``in`` tries an int first, slowly
            buffer, held = _with_lf_line_ends(buffer)
        events = buffer.split(b"\n\n")
        self._pending = events.pop() + held
        found: list[bytes] = []
        for event in events:
            if event.startswith(b"data: {") and event.find(b"\n") == -1:
                # One data line holding an object: nearly every event of a stream.
                found.append(event[6:])
                continue
            payload = _payload(event)
            if payload == DONE:
                self.done = True
                break
            if payload is not None:
                found.append(payload)
        return found

    def close(self) -> list[bytes]:
        """The end of the body also ends its last line and its last event."""
        return self.feed(b"\n\n")


def _with_lf_line_ends(buffer: bytes) -> tuple[bytes, bytes]:
    """``buffer`` with CRLF and CR made LF, less a final CR held back (returned second):
    it may be the first half of a CRLF whose LF comes with the next piece."""
    held = b""
    if buffer.endswith(b"\r"):
        buffer, held = buffer[:-1], b"\r"
    return buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n"), held


def _payload(event: bytes) -> bytes | None:
    """An event's data lines joined by LF; ``DONE`` for ``[DONE]``, ``None`` if blank."""
    data = [
        line[6:] if line[5:6] == b" " else line[5:]
        for line in event.split(b"\n")
        if line.startswith(b"data:")
    ]
    payload = b"\n".join(data)
    content = payload.strip()
    if not content:
        return None
    return DONE if content == DONE else payload

"""Spec validation for every answer a test's client gets: an httpx transport that checks
Responses API objects, their item lists, conversation items and every stream event
against the Open Responses schemas (``spec.py``) as they pass, so each test that talks
through it validates what it produces, whatever it is testing.

A stream is checked event by event; when it ran to its terminal event, its whole
contract too (numbering, brackets). A stream the test leaves early is checked as far as
it was read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from tests.support import spec


class SpecCheckingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        path = request.url.path
        if not _checked(path) or response.status_code != 200:
            return response
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                # A stream resumed after an event (``starting_after``) starts midway:
                # its events are checked one by one, not as a whole turn.
                stream=_CheckedEvents(
                    response.stream, whole="starting_after" not in request.url.params
                ),
                extensions=response.extensions,
            )
        body = response.read()
        check_json(path, json.loads(body))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    def close(self) -> None:
        self._inner.close()


def spec_checked_client(**kwargs: Any) -> httpx.Client:
    """An httpx client (for the openai SDK's ``http_client`` or direct use) whose
    answers are checked against the spec."""
    return httpx.Client(transport=SpecCheckingTransport(), timeout=60, **kwargs)


def _checked(path: str) -> bool:
    return path.rstrip("/").split("/v1", 1)[-1].startswith(("/responses", "/conversations"))


def check_json(path: str, body: Any) -> None:
    if not isinstance(body, dict):
        return
    if body.get("object") == "response":
        spec.assert_valid_response(body)
    elif body.get("object") == "list":
        for entry in body.get("data", []):
            if entry.get("object") == "response":
                spec.assert_valid_response(entry)
            elif "type" in entry:
                spec.assert_valid_item(entry)
    elif "/items/" in path and "type" in body:
        spec.assert_valid_item(body)


class _CheckedEvents(httpx.SyncByteStream):
    def __init__(self, inner: Any, *, whole: bool = True) -> None:
        self._inner = inner
        self._whole = whole
        self._events: list[dict[str, Any]] = []
        self._buffer = b""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._feed(chunk)
            yield chunk
        if self._whole and self._events and self._events[-1]["type"] in _TERMINAL:
            spec.check_stream_contract(self._events)

    def _feed(self, chunk: bytes) -> None:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in self._buffer:
            frame, self._buffer = self._buffer.split(b"\n\n", 1)
            data = b"\n".join(
                line[5:].removeprefix(b" ")
                for line in frame.split(b"\n")
                if line.startswith(b"data:")
            )
            if data and data != b"[DONE]":
                event = json.loads(data)
                spec.assert_valid_event(event)
                self._events.append(event)

    def close(self) -> None:
        self._inner.close()


_TERMINAL = {"response.completed", "response.failed", "response.incomplete"}

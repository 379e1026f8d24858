"""An httpx transport that records and replays upstream HTTP traffic.

Wrap the transport the upstream client would use::

    transport = RecordingTransport(httpx.AsyncHTTPTransport(), mode="replay",
                                   directory=path, base_url="https://api.openai.com/v1")
    client = httpx.AsyncClient(transport=transport, base_url="https://api.openai.com/v1")

It knows HTTP and the recording format, nothing about responses. Modes:

* ``live``: pass through untouched.
* ``record``: call upstream, write the recording (overwriting), answer from it.
* ``replay``: never touch the network; a miss raises ``RecordingMissError`` (a 400).
* ``record-if-missing``: replay what is found, record the rest.

Record mode reads the whole upstream answer before answering, and then answers exactly
as replay would (same ids, same bytes): a recorded run and its replay are identical.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from relaystack.errors import ApiError
from relaystack.recording.context import current_test_id
from relaystack.recording.diff import nearest_explanation
from relaystack.recording.format import (
    empty_response,
    exception_response,
    make_recording,
    normalize_object,
    success_response,
    type_name_for,
    unwrap,
    wrap,
)
from relaystack.recording.keys import (
    MODEL_LIST_METHOD,
    call_filename,
    endpoint_label,
    is_model_list,
    models_digest,
    models_filename,
    normalize_body,
    request_key,
)
from relaystack.recording.mcp import (
    is_jsonrpc,
    is_session_side_request,
    replayed_side_answer,
    session_headers,
)
from relaystack.recording.modes import RECORD_MODES, RecordMode
from relaystack.recording.runlog import run_log_from
from relaystack.recording.sse import ReplayedStreamBody, parse_events
from relaystack.recording.store import RecordingStore
from relaystack.telemetry import telemetry
from relaystack.wire.json import dumps, loads_lenient

log = logging.getLogger(__name__)

RECORDING_HEADER = "x-relaystack-recording"  # which file answered: handy when debugging

# Bounds on what clients can make grow: occurrence counters (one per test id and key;
# a client may invent test ids without end), and files per identical request in one test.
MAX_COUNTERS = 10_000
MAX_REPEATS = 100

# Hop-by-hop or already-undone by httpx's decoding; wrong on a rebuilt response.
_DROPPED_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class RecordingMissError(ApiError):
    """No recording for a request in replay mode: a 400 with code ``replay_miss``.

    Raised by the transport rather than answered as an HTTP error, so that no provider
    reports it as an upstream failure: nothing upstream was contacted. A 4xx because the
    SDKs retry a 5xx (the openai SDK twice by default): one miss would be logged three
    times and the app would wait on retries that cannot succeed.
    """

    def __init__(self, message: str, *, key: str, test_id: str | None) -> None:
        super().__init__(message, code="replay_miss", status_code=400)
        self.key = key
        self.test_id = test_id


@dataclass(frozen=True)
class _Call:
    """One request as the recording format sees it."""

    method: str  # as hashed and written (model lists: POST, like the reference)
    label: str  # the API label, e.g. /v1/chat/completions
    url: str  # the recorded url: base url + label
    body: Any
    test_id: str | None
    key: str
    models: bool
    occurrence: int  # n-th identical call in this test (1-based)

    @property
    def filename(self) -> str:
        return call_filename(self.key, self.occurrence)


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        mode: RecordMode,
        directory: Path,
        base_url: str,
        pacing: float = 0.0,
        run_log: Path | None = None,
        max_counters: int = MAX_COUNTERS,
        max_repeats: int = MAX_REPEATS,
    ) -> None:
        if mode not in RECORD_MODES:
            raise ValueError(f"unknown recording mode {mode!r}; expected one of {RECORD_MODES}")
        self.mode = mode
        self.base_url = base_url
        self.pacing = pacing
        self.store = RecordingStore(Path(directory))
        self._inner = inner
        self._run_log = run_log_from(run_log)
        # Identical requests within one test are told apart by arrival order. The least
        # recently used counters go first: a forgotten test counts from 1 again.
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._max_counters = max_counters
        self._max_repeats = max_repeats

    def reset_counters(self, test_id: str | None = None) -> None:
        """Forget occurrence counts (of one test, or all), e.g. between test runs."""
        if test_id is None:
            self._counts.clear()
        else:
            for k in [k for k in self._counts if k[0] == test_id]:
                del self._counts[k]

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "live":
            return await self._inner.handle_async_request(request)
        if is_session_side_request(request):
            if self.mode == "replay":
                return replayed_side_answer(request)
            return await self._inner.handle_async_request(request)
        call = await self._describe(request)
        if self.mode in ("replay", "record-if-missing"):
            found = self._find(call)
            telemetry().replay(found is not None)
            if found is not None:
                names, response = found
                for name in names:
                    self._mark_used(name)
                return self._serve(response, call, request, names[0])
            if self.mode == "replay":
                # Finding the nearest recording reads and compares every file: in a
                # thread, so that other requests go on meanwhile.
                raise await asyncio.to_thread(self._miss, call)
        return await self._record(call, request)

    async def _describe(self, request: httpx.Request) -> _Call:
        body = _parse_body(await request.aread())
        label, url = endpoint_label(self.base_url, str(request.url))
        models = is_model_list(request.method, label)
        # Model lists are shared by every test (and were recorded outside any test).
        test_id = None if models else current_test_id.get()
        method = MODEL_LIST_METHOD if models else request.method.upper()
        key = request_key(method, url, body, test_id)
        occurrence = 1
        if test_id is not None and not models:
            # Without a test id (a user's app in replay mode) every repeat replays the
            # same file, as the reference does; counting there would grow forever.
            occurrence = self._count((test_id, key))
        return _Call(method, label, url, body, test_id, key, models, occurrence)

    def _count(self, counter: tuple[str, str]) -> int:
        """The occurrence of this call: 1, 2, ... up to ``max_repeats``, then 1 again.

        Wrapping bounds the files one looping test can write, and replay cycles through
        them the same way (see ``RecordingStore.find_call``).
        """
        count = self._counts.pop(counter, 0) + 1
        self._counts[counter] = count
        if len(self._counts) > self._max_counters:
            self._counts.popitem(last=False)
        return (count - 1) % self._max_repeats + 1

    def _find(self, call: _Call) -> tuple[list[str], dict[str, Any]] | None:
        for attempt in range(2):
            if attempt:
                self.store.rescan()  # maybe written since we listed the directory
            if call.models:
                names = self.store.find_models(call.key)
                if names:
                    return names, self._combine_models(names)
            elif name := self.store.find_call(call.key, call.occurrence):
                return [name], self.store.load(name)["response"]
        return None

    def _combine_models(self, names: list[str]) -> dict[str, Any]:
        """One model list from every recorded set (different upstreams over time)."""
        responses = [self.store.load(n)["response"] for n in names]
        if len(responses) == 1:
            return responses[0]
        # Like the reference: the union, by model id, sorted by id.
        seen: dict[str, Any] = {}
        for response in responses:
            for item in response.get("body") or []:
                seen[str(_model_id(unwrap(item)))] = item
        return success_response([seen[k] for k in sorted(seen)], streaming=False)

    async def _record(self, call: _Call, request: httpx.Request) -> httpx.Response:
        upstream = await self._inner.handle_async_request(request)
        try:
            raw = await upstream.aread()
        finally:
            await upstream.aclose()
        status = upstream.status_code
        response: dict[str, Any] | None = None
        if status >= 400:
            response = exception_response(status, raw)
        elif 200 <= status < 300 and not raw:
            response = empty_response(status)  # e.g. an MCP notification's 202
        elif 200 <= status < 300:
            try:
                response = self._success(call, raw, upstream.headers.get("content-type", ""))
            except ValueError:
                response = None  # not JSON: nothing the format can hold
        if response is None:
            log.warning("not recorded (status %s, not JSON): %s %s", status, call.method, call.url)
            headers = {
                k: v for k, v in upstream.headers.items() if k.lower() not in _DROPPED_HEADERS
            }
            return httpx.Response(status, headers=headers, content=raw, request=request)
        name = call.filename
        if call.models:
            # A failed listing has no ids; it still needs the models- name to be found.
            ids = [str(_model_id(unwrap(m))) for m in response["body"] or []]
            name = models_filename(call.key, models_digest(ids))
        recording = make_recording(
            test_id=call.test_id,
            method=call.method,
            url=call.url,
            body=call.body,
            label=call.label,
            response=response,
        )
        self.store.save(name, recording)
        log.debug("recorded %s %s -> %s", call.method, call.label, name)
        self._mark_used(name)
        served = self._serve(response, call, request, name)
        served.headers.update(session_headers(upstream))
        return served

    def _success(self, call: _Call, raw: bytes, content_type: str) -> dict[str, Any]:
        if "text/event-stream" in content_type:
            type_name = type_name_for(call.label, streaming=True)
            chunks = parse_events(raw)
            body = [wrap(normalize_object(c, call.key), type_name) for c in chunks]
            return success_response(body, streaming=True)
        data = loads_lenient(raw)
        type_name = type_name_for(call.label, streaming=False)
        if call.models:
            items = data
            if isinstance(data, dict):
                items = data.get("data", data.get("models", []))
            body = [wrap(normalize_object(m, call.key), type_name) for m in items]
            return success_response(body, streaming=False)
        return success_response(wrap(normalize_object(data, call.key), type_name), streaming=False)

    def _serve(
        self, response: dict[str, Any], call: _Call, request: httpx.Request, name: str
    ) -> httpx.Response:
        """Answer from a recording's ``response`` section, exactly as upstream framed it."""
        headers = {RECORDING_HEADER: name}
        if response.get("is_exception"):
            return _error_response(response, request, headers)
        body = response.get("body")
        if body is None and "status_code" in response:
            return httpx.Response(response["status_code"], headers=headers, request=request)
        if response.get("is_streaming"):
            chunks = [unwrap(c) for c in body or []]
            headers["content-type"] = "text/event-stream"
            # Chat streams end in [DONE]; a stream of MCP messages has no such marker.
            done = not (chunks and all(is_jsonrpc(c) for c in chunks))
            return httpx.Response(
                200,
                headers=headers,
                stream=ReplayedStreamBody(chunks, self.pacing, done=done),
                request=request,
            )
        if call.models:
            payload: Any = {"object": "list", "data": [unwrap(m) for m in body or []]}
        else:
            payload = unwrap(body)
        headers["content-type"] = "application/json"
        return httpx.Response(200, headers=headers, content=dumps(payload), request=request)

    def _miss(self, call: _Call) -> RecordingMissError:
        """The error for a replay miss: the key, the test id, and the nearest recording."""
        if call.models:
            explanation = f"No model-list recording models-{call.key}-*.json."
        else:
            requested = {
                "test_id": call.test_id,
                "method": call.method,
                "endpoint": urlsplit(call.url).path,
                "body": normalize_body(call.body),
            }
            explanation = nearest_explanation(self.store, requested)
        test = f"test id {call.test_id!r}" if call.test_id is not None else "no test id"
        occurrence = f", occurrence {call.occurrence}" if call.occurrence > 1 else ""
        message = (
            f"Replay miss (recording mode {self.mode!r}): no recording of {call.method} "
            f"{call.label} (key {call.key}, {test}{occurrence}) in {self.store.directory}. "
            f"{explanation} Run with recording mode 'record-if-missing' (and upstream "
            "access) to create it."
        )
        log.error("%s", message)
        return RecordingMissError(message, key=call.key, test_id=call.test_id)

    def _mark_used(self, name: str) -> None:
        if self._run_log is not None:
            self._run_log.mark(name)


def _parse_body(content: bytes) -> Any:
    if not content:
        return {}
    try:
        return loads_lenient(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def _model_id(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("id") or item.get("model") or item.get("name")
    return item


def _error_response(
    response: dict[str, Any], request: httpx.Request, headers: dict[str, str]
) -> httpx.Response:
    """Replay a recorded upstream error as the same HTTP status and error body."""
    data = response.get("exception_data") or {}
    status = data.get("status_code")
    if not isinstance(status, int) or status < 400:
        status = 500  # a recorded non-HTTP failure (reference category builtin/unknown)
    body = data.get("body")
    if isinstance(body, str):
        return httpx.Response(status, headers=headers, text=body, request=request)
    if body is None:
        message = response.get("exception_message") or data.get("message") or "Unknown error"
        body = {"message": message, "type": "server_error", "param": None, "code": None}
    # The SDK recorded the inner object of the {"error": ...} envelope; put it back.
    return httpx.Response(status, headers=headers, json={"error": body}, request=request)

"""Each turn on a WebSocket is reported like one HTTP request: its own request id,
log line, metrics, usage and owner limits (the request middleware sees only the
upgrade, which lasts as long as the connection)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from relaystack.observability.record import RequestRecord
from relaystack.observability.recorder import Recorder, RequestTelemetry
from relaystack.observability.request_ids import new_request_id
from relaystack.telemetry import bind_telemetry, telemetry

ROUTE = "/v1/responses"
METHOD = "WEBSOCKET"


@asynccontextmanager
async def turn_record(recorder: Recorder, owner: str) -> AsyncIterator[RequestRecord]:
    """Bind a fresh record for the turn; settle its limits and hand it to the recorder
    when the turn ends."""
    record = RequestRecord(
        request_id=new_request_id(), method=METHOD, path=ROUTE, started=time.perf_counter()
    )
    record.route = ROUTE
    outer = telemetry()
    bind_telemetry(RequestTelemetry(recorder, record))
    telemetry().identify(owner)
    try:
        yield record
    finally:
        bind_telemetry(outer)
        # A lease goes back and tokens are counted once the turn's last event is out.
        for callbacks in (record.before_last_byte, record.cleanups):
            while callbacks:
                await callbacks.pop(0)()
        recorder.finish(record, time.perf_counter() - record.started)

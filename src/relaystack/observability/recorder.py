"""The recorder: one per app, and a ``RequestTelemetry`` per request that feeds it.

``RequestTelemetry`` is what ``relaystack.telemetry.telemetry()`` returns while a
request is served; it fills the request's ``RequestRecord`` and tells the metrics and
the tracer (each may be off) as things happen. At the end the middleware hands the
record to ``Recorder.finish``: the log line, the request metrics, usage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from relaystack.accounting.usage import UsageBuffer
from relaystack.observability.health import UpstreamHealth
from relaystack.observability.logs import REQUEST_LOGGER
from relaystack.observability.metrics import Metrics
from relaystack.observability.record import RequestRecord

if TYPE_CHECKING:  # the OpenTelemetry SDK is imported only when tracing is on
    from relaystack.observability.tracing import Tracing

UNMATCHED_ROUTE = "unmatched"  # one label for every path no route serves


class Recorder:
    """Everything the app reports to, built once from the configuration."""

    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None) -> None:
        self.metrics = metrics
        self.tracing = tracing
        self.health = UpstreamHealth()
        self.usage: UsageBuffer | None = None  # set once the store is open
        self._log_requests = REQUEST_LOGGER.isEnabledFor

    @property
    def times_store(self) -> bool:
        return self.metrics is not None or self.tracing is not None

    def store_span(self, operation: str, dialect: str) -> Any:
        """The span of a store operation (None while tracing is off)."""
        return self.tracing.start_store(operation, dialect) if self.tracing else None

    def store_done(self, operation: str, seconds: float, span: Any) -> None:
        if self.metrics is not None:
            self.metrics.store_operation(operation, seconds)
        if span is not None:
            span.end()

    def finish(self, record: RequestRecord, duration: float) -> None:
        if record.model is not None and record.owner is not None and self.usage is not None:
            self.usage.add(record.owner, record.model, record.input_tokens, record.output_tokens)
        if self.metrics is not None:
            self.metrics.request(
                record.route or UNMATCHED_ROUTE,
                record.method,
                record.status,
                record.model or "",
                duration,
            )
        if self._log_requests(logging.INFO):
            REQUEST_LOGGER.info("request", extra={"fields": record.log_fields(duration)})


class RequestTelemetry:
    """``Telemetry`` for one request (see ``relaystack.telemetry``)."""

    __slots__ = ("record", "recorder")

    def __init__(self, recorder: Recorder, record: RequestRecord) -> None:
        self.recorder = recorder
        self.record = record

    def identify(self, owner: str) -> None:
        self.record.owner = owner

    def upstream_call(
        self, model: str, operation: str = "chat", input_items: Sequence[Any] = ()
    ) -> _UpstreamCall:
        if self.record.model is None:
            self.record.model = model
        tracing = self.recorder.tracing
        span = tracing.start_upstream(model, operation, input_items) if tracing else None
        return _UpstreamCall(self, model, span)

    def tool_call(self, tool_type: str, name: str, call_id: str | None = None) -> _ToolCall:
        tracing = self.recorder.tracing
        span = tracing.start_tool(tool_type, name, call_id) if tracing else None
        return _ToolCall(self, tool_type, span)

    def replay(self, hit: bool) -> None:
        if self.recorder.metrics is not None:
            self.recorder.metrics.replay(hit)

    def upstream_request_id(self, request_id: str) -> None:
        self.record.upstream_ids.append(request_id)


class _UpstreamCall:
    __slots__ = ("model", "request", "span", "started")

    def __init__(self, request: RequestTelemetry, model: str, span: Any) -> None:
        self.request = request
        self.model = model
        self.span = span
        self.started = time.perf_counter()

    def first_token(self) -> None:
        record = self.request.record
        if record.first_token_at is None:
            record.first_token_at = time.perf_counter()
            metrics = self.request.recorder.metrics
            if metrics is not None:
                metrics.first_token(self.model, record.first_token_at - record.started)

    def finished(
        self,
        *,
        usage: Mapping[str, Any] | None,
        finish_reason: str | None,
        error: str | None,
        response_id: str | None = None,
        output: Sequence[Any] = (),
    ) -> None:
        record = self.request.record
        seconds = time.perf_counter() - self.started
        record.upstream_seconds += seconds
        input_tokens = output_tokens = 0
        if usage:
            input_tokens = usage.get("input_tokens") or 0
            output_tokens = usage.get("output_tokens") or 0
            record.input_tokens += input_tokens
            record.output_tokens += output_tokens
        recorder = self.request.recorder
        recorder.health.note(self.model, error)
        metrics = recorder.metrics
        if metrics is not None:
            metrics.upstream(self.model, error or "ok", seconds)
            metrics.tokens(self.model, record.owner or "", input_tokens, output_tokens)
        if self.span is not None:
            assert recorder.tracing is not None
            recorder.tracing.end_upstream(
                self.span,
                usage=usage,
                finish_reason=finish_reason,
                error=error,
                response_id=response_id,
                output=output,
            )


class _ToolCall:
    __slots__ = ("request", "span", "tool_type")

    def __init__(self, request: RequestTelemetry, tool_type: str, span: Any) -> None:
        self.request = request
        self.tool_type = tool_type
        self.span = span

    def finished(self, outcome: str) -> None:
        recorder = self.request.recorder
        if recorder.metrics is not None:
            recorder.metrics.tool_call(self.tool_type, outcome)
        if self.span is not None:
            assert recorder.tracing is not None
            recorder.tracing.end_tool(self.span, outcome)

"""OpenTelemetry traces (the official SDK), exported over OTLP; off unless asked for.

A span per request (SERVER), per upstream call (CLIENT, named and described with the
GenAI semantic conventions), per tool call and per store operation. Prompt and output
text go into spans only with ``operations.tracing.capture_content``. Imported only
when tracing is on, so the SDK costs nothing otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from relaystack import __version__
from relaystack.observability.record import RequestRecord
from relaystack.operations_config import TracingConfig
from relaystack.wire import json as wire_json


def tracing_wanted(config: TracingConfig, environ: Mapping[str, str] = os.environ) -> bool:
    """On by config, or by the standard variables (``OTEL_TRACES_EXPORTER=otlp``);
    ``OTEL_SDK_DISABLED=true`` turns it off whatever else says."""
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").lower()
    return config.enabled or exporter not in ("", "none")


class Tracing:
    def __init__(self, config: TracingConfig, exporter: SpanExporter | None = None) -> None:
        # Resource.create also reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
        resource = Resource.create({"service.name": config.service_name})
        self.provider = TracerProvider(resource=resource)
        if exporter is not None:
            self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            self.provider.add_span_processor(BatchSpanProcessor(_standard_exporter()))
        self.tracer = self.provider.get_tracer("relaystack", __version__)
        self.capture_content = config.capture_content

    # ----- requests --------------------------------------------------------------

    def start_request(self, scope: Mapping[str, Any]) -> tuple[Span, object]:
        """The request's span, made current (a client's ``traceparent`` is its parent)."""
        carrier = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        span = self.tracer.start_span(
            scope["method"],
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
        )
        return span, context.attach(trace.set_span_in_context(span))

    def end_request(self, handle: tuple[Span, object], record: RequestRecord) -> None:
        span, token = handle
        if record.route:
            span.update_name(f"{record.method} {record.route}")
            span.set_attribute("http.route", record.route)
        span.set_attribute("http.response.status_code", record.status)
        span.set_attribute("relaystack.request_id", record.request_id)
        if record.owner is not None:
            span.set_attribute("relaystack.owner", record.owner)
        if record.status >= 500:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", str(record.status))
        span.end()
        context.detach(token)  # type: ignore[arg-type]

    # ----- upstream calls ----------------------------------------------------------

    def start_upstream(self, model: str, operation: str, input_items: Sequence[Any]) -> Span:
        provider, _, upstream_model = model.partition("/")
        span = self.tracer.start_span(
            f"{operation} {upstream_model}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": operation,
                "gen_ai.provider.name": provider,
                "gen_ai.request.model": upstream_model,
            },
        )
        if self.capture_content and input_items:
            span.set_attribute("gen_ai.input.messages", wire_json.dumps_str(list(input_items)))
        return span

    def end_upstream(
        self,
        span: Span,
        *,
        usage: Mapping[str, Any] | None,
        finish_reason: str | None,
        error: str | None,
        response_id: str | None,
        output: Sequence[Any],
    ) -> None:
        if usage:
            span.set_attribute("gen_ai.usage.input_tokens", usage.get("input_tokens") or 0)
            span.set_attribute("gen_ai.usage.output_tokens", usage.get("output_tokens") or 0)
        if finish_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [finish_reason])
        if response_id:
            span.set_attribute("gen_ai.response.id", response_id)
        if self.capture_content and output:
            span.set_attribute("gen_ai.output.messages", wire_json.dumps_str(list(output)))
        if error is not None:
            span.set_attribute("error.type", error)
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    # ----- tool calls and store operations ------------------------------------------

    def start_tool(self, tool_type: str, name: str, call_id: str | None) -> Span:
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.type": tool_type,
        }
        if call_id:
            attributes["gen_ai.tool.call.id"] = call_id
        return self.tracer.start_span(
            f"execute_tool {name}", kind=SpanKind.INTERNAL, attributes=attributes
        )

    def end_tool(self, span: Span, outcome: str) -> None:
        span.set_attribute("relaystack.tool.outcome", outcome)
        if outcome == "failed":
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", "tool_failed")
        span.end()

    def start_store(self, operation: str, dialect: str) -> Span:
        return self.tracer.start_span(
            f"store {operation}",
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": dialect, "db.operation.name": operation},
        )

    def shutdown(self) -> None:
        """Send what is still buffered."""
        self.provider.shutdown()


def _standard_exporter() -> SpanExporter:
    if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # Endpoint, headers and timeout come from the standard OTEL_EXPORTER_OTLP_* variables.
    return OTLPSpanExporter()

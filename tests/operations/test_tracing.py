"""OpenTelemetry spans, caught by an in-memory exporter: the tree of a tool-calling
turn with the GenAI attribute names, a client's ``traceparent`` honoured, and no prompt
or output text unless the config asks for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from relaystack.app import build_app
from relaystack.observability.tracing import Tracing, tracing_wanted
from relaystack.operations_config import TracingConfig
from tests.support.mock_upstream import MockUpstream, Reply
from tests.support.servers import ServerThread
from tests.support.stack import stack_config

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALL = {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def traced(upstream: MockUpstream, tmp_path: Path) -> Iterator[Any]:
    started: list[ServerThread] = []

    def start(**tracing: Any) -> tuple[openai.OpenAI, InMemorySpanExporter]:
        exporter = InMemorySpanExporter()
        config = stack_config(
            upstream.base_url,
            f"sqlite:///{tmp_path / f'traced{len(started)}.db'}",
            operations={"tracing": tracing},
        )
        thread = ServerThread(build_app(config, span_exporter=exporter)).start()
        started.append(thread)
        return openai.OpenAI(base_url=f"{thread.url}/v1", api_key="x", max_retries=0), exporter

    yield start
    for thread in started:
        thread.stop()


def request_spans(exporter: InMemorySpanExporter, count: int) -> list[ReadableSpan]:
    """The spans once ``count`` requests have ended theirs (just after their answer)."""
    deadline = time.monotonic() + 5
    while True:
        spans = exporter.get_finished_spans()
        if sum(span.kind == SpanKind.SERVER for span in spans) >= count:
            return list(spans)
        assert time.monotonic() < deadline, [span.name for span in spans]
        time.sleep(0.02)


def test_the_span_tree_of_a_tool_calling_turn(traced: Any, upstream: MockUpstream) -> None:
    client, exporter = traced()
    upstream.queue(Reply(tool_calls=[CALL]))
    raw = client.responses.with_raw_response.create(
        model="openai/gpt-4o",
        input="What is the weather in Paris?",
        tools=[WEATHER],
        extra_headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "x-request-id": "tr-1"},
    )
    response = raw.parse()
    assert response.output[0].type == "function_call"
    spans = request_spans(exporter, 1)

    (server,) = [span for span in spans if span.kind == SpanKind.SERVER]
    assert server.name == "POST /v1/responses"
    assert format(server.context.trace_id, "032x") == TRACE_ID  # the client's trace
    assert server.parent is not None and format(server.parent.span_id, "016x") == PARENT_ID
    assert server.attributes["http.route"] == "/v1/responses"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["relaystack.request_id"] == "tr-1"
    children = {span.name: span for span in spans if span.parent == server.context}

    chat = children["chat gpt-4o"]
    assert chat.kind == SpanKind.CLIENT
    assert dict(chat.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 1,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.response.id": response.id,
    }
    save = children["store save_response"]
    assert save.attributes["db.system.name"] == "sqlite"
    assert save.attributes["db.operation.name"] == "save_response"
    # The upstream call ended before the turn was saved, inside the request's span.
    assert server.start_time <= chat.start_time <= chat.end_time <= save.start_time
    assert save.end_time <= server.end_time
    # No text of the prompt or the answer, unless asked for.
    for span in spans:
        for value in span.attributes.values():
            assert "Paris" not in str(value), span.name

    # The client runs the tool and sends its output: the next turn is a trace of its own.
    upstream.queue(Reply(content=["Sunny."]))
    client.responses.create(
        model="openai/gpt-4o",
        previous_response_id=response.id,
        input=[{"type": "function_call_output", "call_id": "call_1", "output": "sunny"}],
        tools=[WEATHER],
    )
    spans = request_spans(exporter, 2)
    second = [s for s in spans if s.kind == SpanKind.SERVER][1]
    assert second.context.trace_id != server.context.trace_id
    chained = {s.name for s in spans if s.parent == second.context}
    # The chain comes from the process's cache, checked by a walk of its ids.
    assert {"chat gpt-4o", "store chain_ids", "store save_response"} <= chained


def test_prompts_and_outputs_only_when_asked(traced: Any, upstream: MockUpstream) -> None:
    client, exporter = traced(capture_content=True)
    upstream.queue(Reply(content=["Sunny ", "in Paris."]))
    client.responses.create(model="openai/gpt-4o", input="Weather in Paris?")
    (chat,) = [span for span in request_spans(exporter, 1) if span.name == "chat gpt-4o"]
    assert "Weather in Paris?" in chat.attributes["gen_ai.input.messages"]
    assert "Sunny in Paris." in chat.attributes["gen_ai.output.messages"]


def test_a_failed_upstream_call_is_an_error_span(traced: Any, upstream: MockUpstream) -> None:
    client, exporter = traced()
    upstream.queue(Reply(status=500, error_body={"error": {"message": "boom"}}))
    with pytest.raises(openai.APIStatusError):
        client.responses.create(model="openai/gpt-4o", input="x")
    (chat,) = [span for span in request_spans(exporter, 1) if span.name == "chat gpt-4o"]
    assert chat.status.status_code == StatusCode.ERROR
    assert chat.attributes["error.type"] == "upstream_error"


def test_tool_call_spans_name_the_tool_and_its_outcome() -> None:
    # No server-side tool runs yet: the span the tool loop will open, directly.
    exporter = InMemorySpanExporter()
    tracing = Tracing(TracingConfig(enabled=True), exporter)
    tracing.end_tool(tracing.start_tool("web_search", "web_search", "ws_1"), "completed")
    tracing.end_tool(tracing.start_tool("function", "lookup", None), "failed")
    done, failed = exporter.get_finished_spans()
    assert done.name == "execute_tool web_search"
    assert dict(done.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "web_search",
        "gen_ai.tool.type": "web_search",
        "gen_ai.tool.call.id": "ws_1",
        "relaystack.tool.outcome": "completed",
    }
    assert failed.status.status_code == StatusCode.ERROR


def test_tracing_is_off_unless_config_or_standard_variables_ask() -> None:
    off, on = TracingConfig(), TracingConfig(enabled=True)
    assert not tracing_wanted(off, {})
    assert tracing_wanted(on, {})
    assert tracing_wanted(off, {"OTEL_TRACES_EXPORTER": "otlp"})
    assert not tracing_wanted(off, {"OTEL_TRACES_EXPORTER": "none"})
    assert not tracing_wanted(on, {"OTEL_SDK_DISABLED": "true"})

"""Build the recorder the configuration asks for, and hook it into the app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from relaystack.accounting.usage import UsageBuffer
from relaystack.observability.metrics import Metrics
from relaystack.observability.recorder import Recorder
from relaystack.observability.store_timing import TimedRunner
from relaystack.operations_config import OperationsConfig


def build_recorder(
    config: OperationsConfig,
    providers: Callable[[], Iterable[Any]],
    span_exporter: Any = None,
) -> Recorder:
    """``providers`` lists the running providers when asked (for the queue gauge);
    ``span_exporter`` (an OpenTelemetry ``SpanExporter``) turns tracing on and replaces
    the OTLP exporter: tests give an in-memory one."""
    metrics = Metrics(providers) if config.metrics.enabled else None
    return Recorder(metrics=metrics, tracing=_tracing(config, span_exporter))


def _tracing(config: OperationsConfig, span_exporter: Any) -> Any:
    try:
        from relaystack.observability.tracing import Tracing, tracing_wanted
    except ImportError as exc:
        if config.tracing.enabled or span_exporter is not None:
            raise RuntimeError(
                "operations.tracing needs the OpenTelemetry SDK: pip install 'relaystack[tracing]'"
            ) from exc
        return None  # OTEL_* variables alone do not make a missing SDK an error
    if span_exporter is None and not tracing_wanted(config.tracing):
        return None
    return Tracing(config.tracing, span_exporter)


def attach_store(store: Any, recorder: Recorder) -> None:
    """From now on, time (and trace) every operation of a ``SqlStore``, and keep usage
    in it. Call from the running event loop (usage is written by a task of its own)."""
    if recorder.times_store:
        store.runner = TimedRunner(store.runner, recorder)
    recorder.usage = UsageBuffer(store)
    recorder.usage.start()


async def detach_store(recorder: Recorder) -> None:
    """Write the usage still in memory and send the spans still buffered; then the
    store may close."""
    if recorder.usage is not None:
        await recorder.usage.aclose()
        recorder.usage = None
    if recorder.tracing is not None:
        recorder.tracing.shutdown()

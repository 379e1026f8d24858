"""Build the recorder the configuration asks for, and hook it into the app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from relaystack.accounting.usage import UsageBuffer
from relaystack.observability.metrics import Metrics
from relaystack.observability.recorder import Recorder
from relaystack.observability.store_timing import TimedRunner
from relaystack.operations_config import OperationsConfig


def build_recorder(config: OperationsConfig, providers: Callable[[], Iterable[Any]]) -> Recorder:
    """``providers`` lists the running providers when asked (for the queue gauge)."""
    metrics = Metrics(providers) if config.metrics.enabled else None
    return Recorder(metrics=metrics)


def attach_store(store: Any, recorder: Recorder) -> None:
    """From now on, time (and trace) every operation of a ``SqlStore``, and keep usage
    in it. Call from the running event loop (usage is written by a task of its own)."""
    if recorder.times_store:
        store.runner = TimedRunner(store.runner, recorder)
    recorder.usage = UsageBuffer(store)
    recorder.usage.start()


async def detach_store(recorder: Recorder) -> None:
    """Write the usage still in memory; then the store may close."""
    if recorder.usage is not None:
        await recorder.usage.aclose()
        recorder.usage = None

"""Build the recorder the configuration asks for, and hook it into the app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from relaystack.observability.metrics import Metrics
from relaystack.observability.recorder import Recorder
from relaystack.observability.store_timing import TimedRunner
from relaystack.operations_config import OperationsConfig


def build_recorder(config: OperationsConfig, providers: Callable[[], Iterable[Any]]) -> Recorder:
    """``providers`` lists the running providers when asked (for the queue gauge)."""
    metrics = Metrics(providers) if config.metrics.enabled else None
    return Recorder(metrics=metrics)


def time_store(store: Any, recorder: Recorder) -> None:
    """Time (and trace) every operation of a ``SqlStore`` from now on."""
    if recorder.times_store:
        store.runner = TimedRunner(store.runner, recorder)

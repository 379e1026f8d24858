"""Prometheus metrics (prometheus-client), one registry per app.

Hot paths never call ``labels()``: each label combination's child is looked up once
and kept (``_child``), so a request costs a few dict hits and one observation per
metric, and a stream's chunks cost nothing. With ``PROMETHEUS_MULTIPROC_DIR`` set
(several worker processes), values live in prometheus-client's shared files and
``/metrics`` reads every process's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: from a millisecond of proxy work to a long generation.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


class Metrics:
    def __init__(self, providers: Callable[[], Iterable[Any]]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter(
            "relaystack_requests",
            "HTTP requests answered, by route template, method, status and model.",
            ["route", "method", "status", "model"],
            registry=registry,
        )
        self._duration = Histogram(
            "relaystack_request_duration_seconds",
            "Time from a request's arrival to its last byte, by route template and method.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._first_token = Histogram(
            "relaystack_time_to_first_token_seconds",
            "Time from a request's arrival to the model's first generated delta, by model.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._upstream = Histogram(
            "relaystack_upstream_duration_seconds",
            "Duration of upstream model calls, by model and outcome (ok or an error code).",
            ["model", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._tokens = Counter(
            "relaystack_tokens",
            "Tokens reported by upstreams, by model, owner and direction (input, output).",
            ["model", "owner", "direction"],
            registry=registry,
        )
        self._tool_calls = Counter(
            "relaystack_tool_calls",
            "Server-side tool calls, by tool type and outcome.",
            ["tool_type", "outcome"],
            registry=registry,
        )
        self._store = Histogram(
            "relaystack_store_operation_duration_seconds",
            "Duration of store operations, by operation.",
            ["operation"],
            buckets=_STORE_BUCKETS,
            registry=registry,
        )
        self._replays = Counter(
            "relaystack_replay_lookups",
            "Recording look-ups in replay modes, by outcome (hit, miss).",
            ["outcome"],
            registry=registry,
        )
        self._queue_depth = _QueueDepth(providers)
        registry.register(self._queue_depth)
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def request(self, route: str, method: str, status: int, model: str, seconds: float) -> None:
        self._child(self._requests, route, method, str(status), model).inc()
        self._child(self._duration, route, method).observe(seconds)

    def first_token(self, model: str, seconds: float) -> None:
        self._child(self._first_token, model).observe(seconds)

    def upstream(self, model: str, outcome: str, seconds: float) -> None:
        self._child(self._upstream, model, outcome).observe(seconds)

    def tokens(self, model: str, owner: str, input_tokens: int, output_tokens: int) -> None:
        if input_tokens:
            self._child(self._tokens, model, owner, "input").inc(input_tokens)
        if output_tokens:
            self._child(self._tokens, model, owner, "output").inc(output_tokens)

    def tool_call(self, tool_type: str, outcome: str) -> None:
        self._child(self._tool_calls, tool_type, outcome).inc()

    def store_operation(self, operation: str, seconds: float) -> None:
        self._child(self._store, operation).observe(seconds)

    def replay(self, hit: bool) -> None:
        self._child(self._replays, "hit" if hit else "miss").inc()

    def exposition(self) -> bytes:
        """The text format, of this process or (multi-process mode) of all of them."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            everyone = CollectorRegistry()
            multiprocess.MultiProcessCollector(everyone)
            everyone.register(self._queue_depth)  # this process's queues: read, not stored
            return generate_latest(everyone)
        return generate_latest(self.registry)


class _QueueDepth(Collector):
    """Requests waiting for the local model, read when scraped."""

    def __init__(self, providers: Callable[[], Iterable[Any]]) -> None:
        self._providers = providers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "relaystack_local_queue_depth",
            "Requests waiting for a local model's worker, by provider.",
            labels=["provider"],
        )
        for provider in self._providers():
            depth = getattr(provider, "queue_depth", None)  # only local models queue
            if depth is not None:
                gauge.add_metric([provider.id], depth)
        yield gauge

"""What operating features cost per request, measured in-process.

``python -m bench.ops_cost`` times, per request, the work each feature adds on the hot
path, by running that work alone in a loop: the request metrics (one upstream call,
three store operations, the request itself), the same with tracing on (spans to an
exporter that drops them), and a limits admission (one store transaction) on SQLite
and, when reachable, PostgreSQL. The full-stack check is ``python -m bench --quick``
with and without the feature (see the README, "Operating relaystack").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from relaystack.accounting.limits import LimitGate
from relaystack.observability.metrics import Metrics
from relaystack.observability.record import RequestRecord
from relaystack.observability.recorder import Recorder, RequestTelemetry
from relaystack.operations_config import LimitsConfig
from relaystack.store.sql import SqlStore

USAGE = {"input_tokens": 11, "output_tokens": 40}


def _one_request(recorder: Recorder) -> None:
    record = RequestRecord("req_x", "POST", "/v1/responses", time.perf_counter())
    tracing = recorder.tracing
    handle = (
        tracing.start_request({"method": "POST", "path": "/v1/responses", "headers": []})
        if tracing
        else None
    )
    request = RequestTelemetry(recorder, record)
    request.identify("team-a")
    call = request.upstream_call("openai/gpt-4o")
    call.first_token()
    call.finished(usage=USAGE, finish_reason="stop", error=None, response_id="resp_x")
    for operation in ("chain_ids", "find_items", "save_response"):
        recorder.store_done(operation, 0.0005, recorder.store_span(operation, "sqlite"))
    record.route, record.status = "/v1/responses", 200
    recorder.finish(record, 0.002)
    if handle is not None:
        assert tracing is not None
        tracing.end_request(handle, record)


def per_request_us(recorder: Recorder, n: int) -> float:
    for _ in range(200):
        _one_request(recorder)
    started = time.perf_counter()
    for _ in range(n):
        _one_request(recorder)
    return (time.perf_counter() - started) / n * 1e6


def _tracing() -> Any:
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from relaystack.observability.tracing import Tracing
    from relaystack.operations_config import TracingConfig

    class Dropped(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    return Tracing(TracingConfig(enabled=True), Dropped())


async def admit_ms(url: str, owner: str, limits: dict[str, int], n: int) -> float:
    """Admitting (and settling) one of ``owner``'s requests under ``limits``, in ms."""
    store = await SqlStore.open(url)
    gate = LimitGate(LimitsConfig.model_validate({"default": limits}), store)
    try:
        for _ in range(50):
            await _admit_and_settle(gate, "warm")
        started = time.perf_counter()
        for _ in range(n):
            await _admit_and_settle(gate, owner)
        return (time.perf_counter() - started) / n * 1000
    finally:
        await gate.aclose()
        await store.close()


async def _admit_and_settle(gate: LimitGate, owner: str) -> None:
    admission = await gate.admit(owner)
    assert admission is not None
    await admission.settle(0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ops_cost", description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="requests per measurement")
    parser.add_argument("--postgres", help="a PostgreSQL URL for the limits measurement")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (numbers from a busy machine are high)")
    bare = per_request_us(Recorder(), args.n)
    metrics = per_request_us(Recorder(metrics=Metrics(lambda: [])), args.n)
    traced = per_request_us(Recorder(metrics=Metrics(lambda: []), tracing=_tracing()), args.n)
    print(f"recorder, metrics off:      {bare:7.1f} us/request")
    print(f"recorder, metrics on:       {metrics:7.1f} us/request")
    print(f"metrics and tracing on:     {traced:7.1f} us/request")
    cases = {
        "requests_per_minute=600": {"requests_per_minute": 600},
        "+ tokens_per_day": {"requests_per_minute": 600, "tokens_per_day": 10**9},
        "concurrent_requests=64": {"concurrent_requests": 64},
    }
    with tempfile.TemporaryDirectory() as directory:
        urls = {"SQLite": f"sqlite:///{directory}/limits.db"}
        if args.postgres:
            urls["PostgreSQL"] = args.postgres
        for backend, url in urls.items():
            for name, limits in cases.items():
                # At most 500: within one minute's 600 (a slice is 30 of them).
                cost = asyncio.run(admit_ms(url, name, limits, min(500, args.n // 5)))
                print(f"limits, {backend}, {name}: {cost:.3f} ms/request")


if __name__ == "__main__":
    main()

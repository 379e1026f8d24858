"""Load generator: N requests at concurrency C, bounded by count and by time.

Every answer is read to its end and checked (JSON shape; chat streams end with
``data: [DONE]``; responses streams with ``response.completed``, then ``[DONE]``).
Reports p50/p90/p99 latency, time to first body byte and to first token for streams,
requests/s and errors, as JSON on stdout.

Run: ``python -m bench.loadgen --url http://127.0.0.1:9100 --workload chat-stream
-n 2000 -c 32 --duration 30``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from bench.file_search_direct import FileSearchTurn, file_search_tools
from bench.httpclient import Connection, Result, build_request
from bench.mcp_direct import McpTurn
from bench.mock_upstream import install_uvloop
from bench.netguard import split_base_url
from bench.stats import summarize_ms
from bench.workloads import WORKLOADS, Workload, mcp_tools

MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True)
class LoadSpec:
    url: str
    workload: str
    model: str
    requests: int
    concurrency: int
    duration: float = 30.0
    warmup: int = 0
    timeout: float = 60.0
    mcp_url: str = ""
    vector_store_id: str = ""  # the file-search workloads' store (on relaystack)
    embed_model: str = "mock-embed"  # the file-search baseline's embedding model


def api_prefix(url: str) -> tuple[str, int, str]:
    """Host, port and the ``/v1`` prefix for a server root or its ``/v1`` base URL."""
    host, port, path = split_base_url(url)
    if not path.endswith("/v1"):
        path += "/v1"
    return host, port, path


class Recorder:
    def __init__(self) -> None:
        self.latency: list[float] = []
        self.ttfb: list[float] = []
        self.ttft: list[float] = []
        self.errors = 0
        self.samples: list[str] = []

    def ok(self, res: Result, stream: bool) -> None:
        self.latency.append(res.t_end - res.t_start)
        if stream:
            self.ttfb.append(res.t_first_byte - res.t_start)
            if res.t_first_token:
                self.ttft.append(res.t_first_token - res.t_start)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(message[:300])


Send = Callable[[], Awaitable[Result]]  # one request (or one direct MCP turn), its answer


async def _drive(
    senders: list[Send],
    wl: Workload,
    count: int,
    deadline: float,
    rec: Recorder | None,
) -> int:
    issued = 0

    async def worker(send: Send) -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            issued += 1
            try:
                res = await send()
            except Exception as exc:  # any failure of one request is an error count
                if rec is not None:
                    rec.error(f"{type(exc).__name__}: {exc}")
                continue
            if rec is None:
                continue
            problem = wl.check(res)
            if problem:
                rec.error(problem)
            else:
                rec.ok(res, wl.stream)

    await asyncio.gather(*(worker(s) for s in senders))
    return issued


async def run_load(spec: LoadSpec) -> dict[str, object]:
    wl = WORKLOADS[spec.workload]
    host, port, prefix = api_prefix(spec.url)
    extra = mcp_tools(spec.mcp_url) if wl.mcp else {}
    if wl.file_search:
        extra = file_search_tools(spec.vector_store_id)
    raw = build_request("POST", host, port, prefix + wl.path, wl.body(spec.model, **extra))
    conns = [Connection(host, port) for _ in range(spec.concurrency)]
    turns = [McpTurn(c, host, port, prefix + wl.path, spec.model) for c in conns if wl.mcp_direct]
    searches = [
        FileSearchTurn(c, host, port, prefix, spec.model, spec.embed_model)
        for c in conns
        if wl.file_search_direct
    ]
    senders: list[Send] = (
        [functools.partial(turn.run, spec.mcp_url, wl.marker, spec.timeout) for turn in turns]
        or [functools.partial(search.run, wl.marker, spec.timeout) for search in searches]
        or [functools.partial(conn.request, raw, wl.marker, spec.timeout) for conn in conns]
    )
    try:
        if spec.warmup:
            warm_deadline = time.perf_counter() + min(spec.duration, 15.0)
            await _drive(senders, wl, spec.warmup, warm_deadline, None)
        rec = Recorder()
        t0 = time.perf_counter()
        issued = await _drive(senders, wl, spec.requests, t0 + spec.duration, rec)
        elapsed = time.perf_counter() - t0
    finally:
        for c in conns:
            c.close()
        for turn in turns:
            await turn.aclose()
    ok = len(rec.latency)
    return {
        "url": spec.url,
        "workload": spec.workload,
        "model": spec.model,
        "concurrency": spec.concurrency,
        "requested": spec.requests,
        "issued": issued,
        "ok": ok,
        "errors": rec.errors,
        "error_samples": rec.samples,
        "elapsed_s": elapsed,
        "rps": ok / elapsed if elapsed > 0 else 0.0,
        "latency_ms": summarize_ms(rec.latency),
        "ttfb_ms": summarize_ms(rec.ttfb) if wl.stream else None,
        "ttft_ms": summarize_ms(rec.ttft) if wl.stream else None,
    }


def parse_args(argv: list[str] | None = None) -> LoadSpec:
    p = argparse.ArgumentParser(
        prog="python -m bench.loadgen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", required=True, help="loopback server root or /v1 base URL")
    p.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    p.add_argument("--model", default="mock-model")
    p.add_argument("-n", "--requests", type=int, default=200)
    p.add_argument("-c", "--concurrency", type=int, default=1)
    p.add_argument("--duration", type=float, default=30.0, help="time bound in seconds")
    p.add_argument("--warmup", type=int, default=0, help="unrecorded requests first")
    p.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    p.add_argument("--mcp-url", default="", help="the MCP server of the responses-mcp workloads")
    p.add_argument(
        "--vector-store-id", default="", help="the store of the responses-file-search workloads"
    )
    p.add_argument(
        "--embed-model", default="mock-embed", help="embedding model of file-search-direct"
    )
    a = p.parse_args(argv)
    if a.requests < 1 or a.concurrency < 1 or a.duration <= 0:
        p.error("-n, -c and --duration must be positive")
    if (WORKLOADS[a.workload].mcp or WORKLOADS[a.workload].mcp_direct) and not a.mcp_url:
        p.error(f"--workload {a.workload} needs --mcp-url")
    if WORKLOADS[a.workload].file_search and not a.vector_store_id:
        p.error(f"--workload {a.workload} needs --vector-store-id")
    return LoadSpec(
        a.url,
        a.workload,
        a.model,
        a.requests,
        a.concurrency,
        a.duration,
        a.warmup,
        a.timeout,
        a.mcp_url,
        a.vector_store_id,
        a.embed_model,
    )


def main(argv: list[str] | None = None) -> None:
    spec = parse_args(argv)
    install_uvloop()
    result = asyncio.run(run_load(spec))
    sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()

"""Background responses, measured over HTTP: ``python -m bench.background``.

- ``queued``: ``POST /v1/responses`` with ``background: true`` at c=1, the time to the
  JSON answer (``queued``); each submission waits for the turn before it to end.
- ``completed``: 32 clients each submit, then read the response's stream from after
  ``response.queued`` (``GET ...?stream=true&starting_after=1``) to its end: submit to
  ``response.completed`` latency, and turns completed per second.
- ``resume lag`` (with ``--postgres URL``): two replicas on one database; an upstream
  writes its send time into each chunk, replica A runs background turns and a client
  follows each on replica B; lag = arrival at the client minus the chunk's send time
  (the event is made when A reads the chunk, a loopback hop later).

Both the SQLite phases and the lag phase use the bench's mock (``bench.mock_upstream``,
40 chunks) or, for the lag, a small clock upstream run in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.httpclient import Connection, build_request
from bench.procs import (
    MOCK_MODEL,
    PROVIDER_ID,
    PUBLIC_MODEL,
    Proc,
    bench_env,
    free_port,
    relaystack_command,
    start_mock,
    wait_http_ok,
)
from bench.stats import summarize_ms
from bench.workloads import PROMPT, last_sse_event

HOST = "127.0.0.1"


def _config(path: Path, upstream_port: int, storage_url: str, background: str = "") -> Path:
    path.write_text(
        "providers:\n"
        f"  - id: {PROVIDER_ID}\n"
        "    type: openai-compatible\n"
        f"    base_url: http://{HOST}:{upstream_port}/v1\n"
        "    api_key: sk-bench\n"
        f"    models: [{MOCK_MODEL}]\n"
        f"storage:\n  url: {storage_url}\n" + background
    )
    return path


def _serve(config: Path, workdir: Path, name: str) -> tuple[Proc, int]:
    import subprocess

    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [*relaystack_command(), "serve", "--config", str(config), "--port", str(port)],
            cwd=workdir,
            env=bench_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    proc = Proc(name, popen, log)
    wait_http_ok(proc, port, "/v1/health", 60.0)
    return proc, port


def _submit_body(**extra: Any) -> bytes:
    return orjson.dumps({"model": PUBLIC_MODEL, "input": PROMPT, "background": True, **extra})


async def _submit(connection: Connection, port: int) -> tuple[str, float]:
    raw = build_request("POST", HOST, port, "/v1/responses", _submit_body())
    result = await connection.request(raw)
    answer = orjson.loads(result.body)
    if result.status != 200 or answer.get("status") not in ("queued", "in_progress"):
        raise RuntimeError(f"submission refused: {result.status} {result.body[:200]!r}")
    return answer["id"], result.t_end - result.t_start


async def _until_ended(connection: Connection, port: int, response_id: str) -> str:
    path = f"/v1/responses/{response_id}?stream=true&starting_after=1"
    result = await connection.request(build_request("GET", HOST, port, path), timeout=120)
    name, _ = last_sse_event(result.body)
    return name


async def queued_latency(port: int, n: int) -> dict[str, Any]:
    """Submissions at c=1, each after the one before has ended (so the answer is
    measured alone, not beside the turns of earlier ones), and (the ratio's baseline,
    same run) foreground turns."""
    connection, follower = Connection(HOST, port), Connection(HOST, port)
    times, endings = [], set()
    for _ in range(n):
        response_id, took = await _submit(connection, port)
        times.append(took)
        endings.add(await _until_ended(follower, port, response_id))
    foreground = []
    body = orjson.dumps({"model": PUBLIC_MODEL, "input": PROMPT})
    for _ in range(n):
        result = await connection.request(build_request("POST", HOST, port, "/v1/responses", body))
        foreground.append(result.t_end - result.t_start)
    connection.close()
    follower.close()
    return {
        "n": n,
        "latency_ms": summarize_ms(times),
        "foreground_ms": summarize_ms(foreground),
        "endings": sorted(endings),
    }


async def completed_latency(port: int, clients: int, per_client: int) -> dict[str, Any]:
    latencies: list[float] = []
    endings: dict[str, int] = {}

    async def client() -> None:
        submitter, follower = Connection(HOST, port), Connection(HOST, port)
        for _ in range(per_client):
            started = time.perf_counter()
            response_id, _ = await _submit(submitter, port)
            ending = await _until_ended(follower, port, response_id)
            latencies.append(time.perf_counter() - started)
            endings[ending] = endings.get(ending, 0) + 1
        submitter.close()
        follower.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - started
    return {
        "concurrency": clients,
        "n": len(latencies),
        "latency_ms": summarize_ms(latencies),
        "completed_per_s": endings.get("response.completed", 0) / wall,
        "endings": endings,
    }


# ----- resume lag: a clock upstream and two replicas on PostgreSQL ----------------


def _clock_upstream(chunks: int, delay: float) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()

        async def stream() -> AsyncIterator[bytes]:
            for _ in range(chunks):
                await asyncio.sleep(delay)
                delta = {"content": f"{time.time():.6f} "}
                chunk = {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": delta}],
                }
                yield b"data: " + orjson.dumps(chunk) + b"\n\n"
            end = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            yield b"data: " + orjson.dumps(end) + b"\n\ndata: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": MOCK_MODEL, "object": "model"}]})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models),
        ]
    )


def _start_in_thread(app: Starlette, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server


async def _follow_lags(port_a: int, port_b: int, turns: int) -> list[float]:
    lags: list[float] = []
    async with httpx.AsyncClient(timeout=60) as http:
        for _ in range(turns):
            answer = await http.post(f"http://{HOST}:{port_a}/v1/responses", content=_submit_body())
            response_id = answer.json()["id"]
            url = f"http://{HOST}:{port_b}/v1/responses/{response_id}"
            params = {"stream": "true", "starting_after": "1"}
            async with http.stream("GET", url, params=params) as stream:
                async for line in stream.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    arrived = time.time()
                    event = orjson.loads(line[5:])
                    if event["type"] == "response.output_text.delta":
                        lags.append(arrived - float(event["delta"]))
    return lags


def resume_lag(postgres_url: str, workdir: Path, turns: int) -> dict[str, Any]:
    upstream_port = free_port()
    upstream = _start_in_thread(_clock_upstream(chunks=40, delay=0.02), upstream_port)
    url = postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    runner = _config(workdir / "a.yaml", upstream_port, url)
    # B only follows: it looks for queued jobs once a minute, so A runs them all.
    follower = _config(
        workdir / "b.yaml",
        upstream_port,
        url,
        "background:\n  poll_interval: 60\n  lease_seconds: 120\n",
    )
    a, port_a = _serve(runner, workdir, "replica-a")
    b, port_b = _serve(follower, workdir, "replica-b")
    try:
        lags = asyncio.run(_follow_lags(port_a, port_b, turns))
    finally:
        b.stop()
        a.stop()
        upstream.should_exit = True
    return {"turns": turns, "events": len(lags), "lag_ms": summarize_ms(lags)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase, on servers of its own (``python -m bench`` runs it after the chain)."""
    workdir = Path(tempfile.mkdtemp(prefix="relaystack-bench-bg-"))
    results: dict[str, Any] = {}
    mock_port = free_port()
    mock = start_mock(mock_port, 40, 0.0, workdir / "mock.log")
    config = _config(workdir / "relaystack.yaml", mock_port, f"sqlite:///{workdir / 'bg.db'}")
    server, port = _serve(config, workdir, "relaystack")
    try:
        results["queued"] = asyncio.run(queued_latency(port, args.n_low))
        results["completed"] = asyncio.run(
            completed_latency(port, args.concurrency, args.per_client)
        )
    finally:
        server.stop()
        mock.stop()
    if args.postgres:
        results["resume"] = resume_lag(args.postgres, workdir, args.turns)
    return results


def markdown(results: dict[str, Any]) -> str:
    queued = results["queued"]["latency_ms"]
    done = results["completed"]
    lines = [
        "| background | p50 ms | p90 ms | p99 ms | other |",
        "| --- | --- | --- | --- | --- |",
        f"| queued answer, c=1 | {queued['p50']:.2f} | {queued['p90']:.2f} | "
        f"{queued['p99']:.2f} | n={results['queued']['n']}; a foreground turn in the same "
        f"run: p50 {results['queued']['foreground_ms']['p50']:.2f} ms |",
        f"| submit to completed, c={done['concurrency']} | {done['latency_ms']['p50']:.1f} | "
        f"{done['latency_ms']['p90']:.1f} | {done['latency_ms']['p99']:.1f} | "
        f"{done['completed_per_s']:.0f} completed/s, endings {done['endings']} |",
    ]
    if "resume" in results:
        lag = results["resume"]["lag_ms"]
        lines.append(
            f"| resume lag, replica A to a client on B (PostgreSQL) | {lag['p50']:.1f} | "
            f"{lag['p90']:.1f} | {lag['p99']:.1f} | {results['resume']['events']} events |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.background", description=__doc__)
    parser.add_argument("--n-low", type=int, default=200, help="c=1 submissions")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=20, help="turns per c=32 client")
    parser.add_argument("--postgres", help="postgresql://USER@HOST/DB for the resume lag")
    parser.add_argument("--turns", type=int, default=20, help="turns followed for the lag")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = run(args)
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(markdown(results), file=sys.stdout)


if __name__ == "__main__":
    main()

"""The matrix: endpoints x concurrency x candidates, interleaved round by round.

Each cell runs in a fresh load generator process (``python -m bench.loadgen``) so
the generator never shares a CPU-bound interpreter with the orchestrator.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from bench.procs import REPO_ROOT, bench_env
from bench.workloads import (
    DIRECT_EQUIVALENT,
    FILE_SEARCH_WORKLOADS,
    MCP_WORKLOADS,
    SERVER_ONLY,
)

ENDPOINTS = (
    "chat",
    "chat-stream",
    "responses",
    "responses-stream",
    "responses-mcp",
    "responses-mcp-stream",
    "responses-file-search",
    "responses-file-search-stream",
    "input-tokens",
)
MCP_ENDPOINTS = ("responses-mcp", "responses-mcp-stream")
FILE_SEARCH_ENDPOINTS = FILE_SEARCH_WORKLOADS


@dataclass(frozen=True)
class Candidate:
    name: str
    url: str
    model: str
    direct: bool = False  # the mock itself: responses cells use its chat stream
    mcp_url: str = ""  # the bench's MCP server, for the responses-mcp cells
    vector_store_id: str = ""  # its copy of the bench's store, for the file-search cells

    def runs(self, endpoint: str) -> bool:
        """Whether this candidate has the cell: a server without the store has not."""
        if self.direct:
            return endpoint not in SERVER_ONLY
        return endpoint not in FILE_SEARCH_ENDPOINTS or bool(self.vector_store_id)

    def workload_for(self, endpoint: str) -> str:
        return DIRECT_EQUIVALENT.get(endpoint, endpoint) if self.direct else endpoint


@dataclass(frozen=True)
class Level:
    concurrency: int
    requests: int
    duration: float
    warmup: int


@dataclass(frozen=True)
class MatrixPlan:
    candidates: list[Candidate]
    endpoints: tuple[str, ...]
    levels: list[Level]
    rounds: int
    timeout: float = 60.0


def run_cell(cand: Candidate, endpoint: str, level: Level, timeout: float) -> dict[str, object]:
    """One loadgen process for one cell; a failed process becomes an all-error cell."""
    workload = cand.workload_for(endpoint)
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        cand.url,
        "--workload",
        workload,
        "--model",
        cand.model,
        "-n",
        str(level.requests),
        "-c",
        str(level.concurrency),
        "--duration",
        str(level.duration),
        "--warmup",
        str(level.warmup),
        "--timeout",
        str(timeout),
    ]
    if cand.mcp_url and workload in MCP_WORKLOADS:
        cmd += ["--mcp-url", cand.mcp_url]
    if cand.vector_store_id and workload in FILE_SEARCH_WORKLOADS:
        cmd += ["--vector-store-id", cand.vector_store_id]
    hard_limit = level.duration + 2 * timeout + 30  # warmup, drain, start-up
    popen = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = popen.communicate(timeout=hard_limit)
        result = orjson.loads(out) if popen.returncode == 0 else None
    except (subprocess.TimeoutExpired, orjson.JSONDecodeError) as exc:
        popen.kill()
        popen.communicate()
        result, err = None, str(exc).encode()
    if result is None:
        result = {
            "workload": workload,
            "concurrency": level.concurrency,
            "ok": 0,
            "errors": level.requests,
            "rps": 0.0,
            "error_samples": [f"loadgen failed: {err.decode(errors='replace')[-500:]}"],
            "latency_ms": None,
            "ttfb_ms": None,
            "ttft_ms": None,
        }
    result.update({"candidate": cand.name, "endpoint": endpoint})
    return result


def run_matrix(
    plan: MatrixPlan,
    deadline: float,
    log: Callable[[str], None],
    after_round: Callable[[int], None] | None = None,
    before_round: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, object]], int]:
    """Run every round; returns (cells, rounds completed). Stops early past ``deadline``."""
    cells: list[dict[str, object]] = []
    for rnd in range(plan.rounds):
        if before_round is not None:
            before_round(rnd)
        # Rotate the candidate order each round so no one always goes first.
        shift = rnd % len(plan.candidates)
        order = plan.candidates[shift:] + plan.candidates[:shift]
        for endpoint in plan.endpoints:
            for level in plan.levels:
                for cand in order:
                    if not cand.runs(endpoint):
                        continue
                    if time.monotonic() > deadline:
                        log(f"time budget reached in round {rnd + 1}: stopping")
                        return cells, rnd
                    t0 = time.monotonic()
                    cell = run_cell(cand, endpoint, level, plan.timeout)
                    cell["round"] = rnd
                    cells.append(cell)
                    lat = cell.get("latency_ms") or {}
                    log(
                        f"round {rnd + 1}/{plan.rounds} {endpoint:<16} c={level.concurrency:<3}"
                        f" {cand.name:<11} ok={cell['ok']} err={cell['errors']}"
                        f" rps={cell['rps']:.0f} p50={lat.get('p50', float('nan')):.2f}ms"
                        f" ({time.monotonic() - t0:.1f}s)"
                    )
        if after_round is not None:
            after_round(rnd)
    return cells, plan.rounds

"""``python -m bench``: start the mock and relaystack, run the matrix, write the report.

Writes ``results.json``, ``REPORT.md`` and ``chart.png`` (and ``PROFILE.md`` with
``--profile``) under ``--out`` (default ``bench/results``). Loopback only; every
phase is bounded in requests and in time (``--budget``, default 14 minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.background import markdown as background_markdown
from bench.background import run as run_background
from bench.chain import ChainSpec, run_chain_sync
from bench.chart import write_chart
from bench.cpuacct import delta, loadavg, snapshot, total, wait_quiet
from bench.file_search_direct import create_store
from bench.matrix import (
    ENDPOINTS,
    FILE_SEARCH_ENDPOINTS,
    MCP_ENDPOINTS,
    Candidate,
    Level,
    MatrixPlan,
    run_matrix,
)
from bench.procs import (
    MOCK_MODEL,
    PUBLIC_MODEL,
    REPO_ROOT,
    Proc,
    children,
    free_port,
    http_get,
    pin_self,
    rss_kib,
    start_mcp_server,
    start_mock,
    start_relaystack,
)
from bench.profile import profile_endpoints, profile_markdown, profile_while
from bench.report import render as render_report

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 1 round, few requests, a 10-turn chain"
    )
    p.add_argument("--rounds", type=int, help="rounds of the matrix (default 5; quick 1)")
    p.add_argument("--n-low", type=int, help="requests per c=1 cell (default 200)")
    p.add_argument("--n-high", type=int, help="requests per high-c cell (default 2000)")
    p.add_argument("--high-c", type=int, default=32, help="the high concurrency (default 32)")
    p.add_argument("--duration", type=float, help="time bound per cell, s (default 30)")
    p.add_argument(
        "--endpoints",
        default=",".join(ENDPOINTS),
        help="comma-separated subset of " + ",".join(ENDPOINTS),
    )
    p.add_argument("--chain-turns", type=int, help="turns per chain (default 100; quick 10)")
    p.add_argument("--chains", type=int, help="chains to run (default 7; quick 1)")
    p.add_argument("--chunks", type=int, default=40, help="mock content chunks per stream")
    p.add_argument("--delay", type=float, default=0.0, help="mock seconds between chunks")
    p.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="another loopback server to compare (repeatable)",
    )
    p.add_argument("--extra-model", default=PUBLIC_MODEL, help="model id for --extra servers")
    p.add_argument("--mock-port", type=int, default=0, help="fixed mock port (for --extra)")
    p.add_argument("--no-relaystack", action="store_true", help="bench direct/extras only")
    p.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, py-spy relaystack during one more high-c cell each",
    )
    p.add_argument(
        "--pin",
        action="store_true",
        help="pin relaystack to CPU 0, mock and load generator to CPU 1",
    )
    p.add_argument(
        "--tokenizer",
        choices=["estimate", "o200k_base", "cl100k_base"],
        help="how relaystack counts the mock model's tokens (default: estimate)",
    )
    p.add_argument("--budget", type=float, default=840.0, help="time budget for the run, s")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before the run and each round, wait up to S seconds for other processes "
        "to use < 25%% of the machine (a shared machine skews the numbers)",
    )
    p.add_argument(
        "--background-postgres",
        metavar="URL",
        help="postgresql://USER@HOST/DB: also measure background resume lag on 2 replicas",
    )
    p.add_argument("--no-background", action="store_true", help="skip the background phase")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    a = p.parse_args(argv)
    q = a.quick
    a.rounds = a.rounds or (1 if q else 5)
    a.n_low = a.n_low or (20 if q else 200)
    a.n_high = a.n_high or (200 if q else 2000)
    a.duration = a.duration or (5.0 if q else 30.0)
    a.chain_turns = a.chain_turns if a.chain_turns is not None else (10 if q else 100)
    a.chains = a.chains or (1 if q else 7)
    a.endpoints = tuple(e for e in a.endpoints.split(",") if e)
    if bad := [e for e in a.endpoints if e not in ENDPOINTS]:
        p.error(f"unknown endpoints {bad}")
    return a


def levels(a: argparse.Namespace) -> list[Level]:
    return [
        Level(1, a.n_low, a.duration, min(20, a.n_low)),
        Level(a.high_c, a.n_high, a.duration, min(4 * a.high_c, a.n_high)),
    ]


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        return out.stdout.strip()
    except OSError:
        return ""


def _git_commit() -> str:
    """HEAD, and whether the server's source in the work tree differs from it."""
    head = _git("rev-parse", "--short", "HEAD") or "?"
    dirty = _git("status", "--porcelain", "--", "src")
    return f"{head} + uncommitted changes in src/" if dirty else head


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _candidates(
    a: argparse.Namespace,
    mock_url: str,
    server_url: str | None,
    mcp_url: str = "",
    vector_store_id: str = "",
) -> list[Candidate]:
    cands = [Candidate("direct", mock_url, MOCK_MODEL, direct=True, mcp_url=mcp_url)]
    if server_url:
        server = Candidate(
            "relaystack", server_url, PUBLIC_MODEL, mcp_url=mcp_url, vector_store_id=vector_store_id
        )
        cands.append(server)
    for spec in a.extra:
        name, sep, url = spec.partition("=")
        if not sep or not name or name in {c.name for c in cands}:
            raise SystemExit(f"--extra wants a new NAME=URL, got {spec!r}")
        store = _extra_store(url) if any(e in FILE_SEARCH_ENDPOINTS for e in a.endpoints) else ""
        cands.append(Candidate(name, url, a.extra_model, mcp_url=mcp_url, vector_store_id=store))
    return cands


def _extra_store(url: str) -> str:
    """The bench's vector store on a server started by hand (its ``files`` embedding on
    the mock, as the bench's own server has it); without one, its file-search cells
    are skipped."""
    try:
        return create_store(url)
    except (RuntimeError, httpx.HTTPError) as exc:
        log(f"no vector store on {url} ({exc}): its file-search cells are skipped")
        return ""


def _start(
    a: argparse.Namespace, workdir: Path, procs: list[Proc], notes: list[str]
) -> tuple[int, Proc | None, list[Candidate]]:
    mock_port = a.mock_port or free_port()
    mock = start_mock(mock_port, a.chunks, a.delay, workdir / "mock.log")
    procs.append(mock)
    mock_url = f"http://127.0.0.1:{mock_port}/v1"
    log(f"mock upstream on :{mock_port} (pid {mock.pid}), workdir {workdir}")
    mcp_url = ""
    if any(e in MCP_ENDPOINTS for e in a.endpoints):
        mcp_port = free_port()
        mcp = start_mcp_server(mcp_port, workdir / "mcp.log")
        procs.append(mcp)
        mcp_url = f"http://127.0.0.1:{mcp_port}/mcp"
        log(f"MCP server on :{mcp_port} (pid {mcp.pid})")
    server: Proc | None = None
    server_url = None
    vector_store_id = ""
    if not a.no_relaystack:
        port = free_port()
        server = start_relaystack(
            port, mock_port, workdir, cpus={0} if a.pin else None, tokenizer=a.tokenizer
        )
        procs.append(server)
        server_url = f"http://127.0.0.1:{port}"
        log(f"relaystack on :{port} (pid {server.pid})")
        if any(e in FILE_SEARCH_ENDPOINTS for e in a.endpoints):
            vector_store_id = create_store(server_url)
            log(f"vector store {vector_store_id} for the file-search cells")
        if kids := children(server.pid):
            notes.append(
                f"relaystack pid {server.pid} has child processes {kids}; "
                "RSS and profile cover the parent only"
            )
    return mock_port, server, _candidates(a, mock_url, server_url, mcp_url, vector_store_id)


def _chain(
    a: argparse.Namespace, cands: list[Candidate], mock_url: str, deadline: float
) -> dict[str, Any] | None:
    cand = next((c for c in cands if not c.direct), None)
    if cand is None or a.chain_turns <= 0:
        return None
    log(f"chain: {a.chains} x {a.chain_turns} turns on {cand.name}")
    spec = ChainSpec(
        cand.url,
        mock_url,
        cand.model,
        MOCK_MODEL,
        a.chain_turns,
        a.chains,
        a.chunks,
        budget_s=max(10.0, deadline - time.monotonic() - 60),
    )
    chain = run_chain_sync(spec)
    chain["candidate"] = cand.name
    log(f"chain: ratio {chain['ratio']:.2f}x, errors {len(chain['errors'])}")
    return chain


def _background(a: argparse.Namespace) -> dict[str, Any] | None:
    """Background responses (``bench.background``), on servers of their own."""
    if a.no_relaystack or a.no_background:
        return None
    q = a.quick
    args = argparse.Namespace(
        n_low=20 if q else a.n_low,
        concurrency=a.high_c,
        per_client=2 if q else 20,
        postgres=a.background_postgres,
        turns=2 if q else 20,
    )
    log(f"background: queued answer c=1, submit to completed c={a.high_c}")
    results = run_background(args)
    log("background:\n" + background_markdown(results))
    return results


def _profile_chain(
    a: argparse.Namespace, server: Proc, cand: Candidate, mock_url: str
) -> dict[str, Any]:
    """py-spy on relaystack during 10 more chains: where per-turn cost grows with history."""
    spec = ChainSpec(
        cand.url, mock_url, cand.model, MOCK_MODEL, a.chain_turns, 10, a.chunks, budget_s=90.0
    )
    chain: dict[str, Any] = {}
    summary = profile_while(
        server.pid,
        a.out / "profile" / "chain.txt",
        a.out,
        lambda: chain.update(run_chain_sync(spec)),
    )
    summary["title"] = (
        f"chain: 10 x {a.chain_turns} turns of `previous_response_id`, c=1 "
        f"({len(chain.get('errors', []))} errors)"
    )
    log(f"profiled the chain: {summary.get('samples', 0)} samples")
    return summary


def run(a: argparse.Namespace) -> dict[str, Any]:
    cpu: dict[str, Any] = {"per_round": []}
    if a.wait_quiet > 0:
        cpu["other_share_before"] = wait_quiet(a.wait_quiet, 0.25, log)
    deadline = time.monotonic() + a.budget
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    commit = _git_commit()  # at the start: the tree may change under a long run
    if a.pin:
        pin_self({1})
    workdir = Path(tempfile.mkdtemp(prefix="relaystack-bench-"))
    procs: list[Proc] = []
    notes: list[str] = []
    results: dict[str, Any] = {"cells": [], "notes": notes}
    cpu["loadavg_start"] = loadavg()
    rss: dict[str, Any] = {"per_round_kib": []}
    done = 0
    try:
        mock_port, server, cands = _start(a, workdir, procs, notes)
        mock_url = f"http://127.0.0.1:{mock_port}/v1"
        pids = [p.pid for p in procs]
        last = snapshot(pids)
        if server is not None:
            rss["start_kib"] = rss_kib(server.pid).get("VmRSS", 0)

        def after_round(rnd: int) -> None:
            nonlocal last
            if server is not None:
                rss["per_round_kib"].append(rss_kib(server.pid).get("VmRSS", 0))
            snap = snapshot(pids)
            cpu["per_round"].append(delta(last, snap))
            last = snap

        plan = MatrixPlan(cands, a.endpoints, levels(a), a.rounds)

        def before_round(rnd: int) -> None:
            nonlocal last
            if rnd and a.wait_quiet > 0 and time.monotonic() < deadline - 120:
                share = wait_quiet(min(a.wait_quiet, deadline - 120 - time.monotonic()), 0.25, log)
                cpu.setdefault("other_share_before_round", []).append(share)
                last = snapshot(pids)  # the wait is not part of any round

        results["cells"], done = run_matrix(plan, deadline, log, after_round, before_round)
        results["chain"] = _chain(a, cands, mock_url, deadline)
        results["background"] = _background(a)
        cpu["chain"] = delta(last, snapshot(pids))
        cpu["run"] = total([*cpu["per_round"], cpu["chain"]])
        cpu["loadavg_end"] = loadavg()
        if server is not None:
            mem = rss_kib(server.pid)
            rss.update(after_run_kib=mem.get("VmRSS", 0), peak_kib=mem.get("VmHWM", 0))
            log(f"relaystack VmRSS {rss['after_run_kib'] / 1024:.1f} MB")
            if a.profile:
                rs = next(c for c in cands if c.name == "relaystack")
                results["profile"] = profile_endpoints(
                    server.pid, rs, a.endpoints, levels(a)[1], a.out, deadline, log
                )
                if results.get("chain"):
                    results["profile"]["chain"] = _profile_chain(a, server, rs, mock_url)
            if not server.alive():
                notes.append(f"relaystack exited early: {server.log_tail(500)}")
        results["rss"] = rss
        status, body = http_get("127.0.0.1", mock_port, "/mock/stats")
        results["mock_stats"] = orjson.loads(body) if status == 200 else {}
    finally:
        for proc in reversed(procs):
            proc.stop()
    results["cpu"] = cpu
    results["meta"] = {
        "command": "python -m bench " + shlex.join(sys.argv[1:]),
        "started": started,
        "duration_s": time.monotonic() - T0,
        "commit": commit,
        "cpu": _cpu(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "rounds": a.rounds,
        "rounds_done": done,
        "levels": [lv.__dict__ for lv in levels(a)],
        "mock_chunks": a.chunks,
        "mock_delay": a.delay,
        "pinned": a.pin,
        "candidates": {c.name: c.url for c in cands},
    }
    return results


def write_outputs(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2, default=str)
    )
    if not write_chart(results, out / "chart.png"):
        results["notes"].append("matplotlib not installed: no chart")
    if results.get("profile"):
        (out / "PROFILE.md").write_text(profile_markdown(results))
    (out / "REPORT.md").write_text(render_report(results))


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    results = run(a)
    write_outputs(results, a.out)
    log(f"wrote {a.out / 'REPORT.md'} ({results['meta']['duration_s']:.0f} s)")


if __name__ == "__main__":
    main()

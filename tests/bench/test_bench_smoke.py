"""Smoke test of the bench tools: the mock answers, the load generator runs clean,
the stream checks catch truncation, and ``python -m bench --quick`` runs end to end
against relaystack with a handful of requests. Not a measurement: no timed asserts.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.httpclient import Result
from bench.procs import REPO_ROOT, Proc, bench_env, free_port, start_mcp_server, start_mock
from bench.workloads import check_chat_stream, check_responses_json, check_responses_stream


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    proc: Proc = start_mock(port, 5, 0.0, tmp_path_factory.mktemp("mock") / "mock.log")
    try:
        yield port
    finally:
        proc.stop()


def _post(port: int, path: str, body: dict[str, object]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_mock_answers_every_route(mock: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", mock, timeout=10)
    conn.request("GET", "/v1/models")
    models = json.loads(conn.getresponse().read())
    conn.close()
    assert "mock-model" in [m["id"] for m in models["data"]]

    status, body = _post(mock, "/v1/chat/completions", {"model": "m", "messages": []})
    assert status == 200
    assert json.loads(body)["choices"][0]["message"]["content"] == "w0 w1 w2 w3 w4 "

    status, body = _post(mock, "/v1/chat/completions", {"model": "m", "stream": True})
    events = [e for e in body.decode().split("\n\n") if e]
    assert status == 200 and events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert len(chunks) == 5 + 2  # content chunks, finish chunk, usage chunk
    assert chunks[-1]["usage"]["completion_tokens"] == 5 and chunks[-1]["choices"] == []

    status, body = _post(mock, "/v1/embeddings", {"model": "e", "input": ["a", "b"]})
    assert status == 200 and len(json.loads(body)["data"]) == 2


@pytest.mark.parametrize("stream", [False, True])
def test_mock_calls_a_tool_when_offered_then_answers_its_result(mock: int, stream: bool) -> None:
    tools = [{"type": "function", "function": {"name": "add", "parameters": {}}}]
    asked = [{"role": "user", "content": "1+2"}]
    body = {"model": "m", "messages": asked, "tools": tools, "stream": stream}
    status, first = _post(mock, "/v1/chat/completions", body)
    assert status == 200 and b'"name":"add"' in first and b'"tool_calls"' in first
    answered = [*asked, {"role": "tool", "tool_call_id": "call_bench", "content": "3"}]
    status, second = _post(mock, "/v1/chat/completions", {**body, "messages": answered})
    assert status == 200 and b"w0 " in second and b'"tool_calls"' not in second


@pytest.mark.parametrize("workload", ["chat", "chat-stream", "embeddings"])
def test_loadgen_runs_clean_against_mock(mock: int, workload: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        f"http://127.0.0.1:{mock}/v1",
        "--workload",
        workload,
        "-n",
        "50",
        "-c",
        "4",
        "--duration",
        "20",
        "--warmup",
        "5",
    ]
    out = subprocess.run(
        cmd, cwd=REPO_ROOT, env=bench_env(), capture_output=True, timeout=60, check=True
    )
    result = json.loads(out.stdout)
    assert result["errors"] == 0, result["error_samples"]
    assert result["ok"] == 50


def test_the_direct_mcp_turn_runs_clean_against_mock_and_mcp_server(
    mock: int, tmp_path: Path
) -> None:
    """The MCP cells' baseline: a tool-call stream, one MCP session, the text stream."""
    port = free_port()
    mcp = start_mcp_server(port, tmp_path / "mcp.log")
    try:
        cmd = [
            *(sys.executable, "-m", "bench.loadgen", "--url", f"http://127.0.0.1:{mock}/v1"),
            *("--workload", "mcp-direct", "-n", "10", "-c", "2", "--duration", "20"),
            *("--mcp-url", f"http://127.0.0.1:{port}/mcp"),
        ]
        out = subprocess.run(
            cmd, cwd=REPO_ROOT, env=bench_env(), capture_output=True, timeout=60, check=True
        )
    finally:
        mcp.stop()
    result = json.loads(out.stdout)
    assert result["errors"] == 0, result["error_samples"]
    assert result["ok"] == 10


def test_the_direct_file_search_turn_runs_clean_against_mock(mock: int) -> None:
    """The file-search cells' baseline: a file_search call, its embedding, the text."""
    embedded = _embeddings_served(mock)
    cmd = [
        *(sys.executable, "-m", "bench.loadgen", "--url", f"http://127.0.0.1:{mock}/v1"),
        *("--workload", "file-search-direct", "-n", "10", "-c", "2", "--duration", "20"),
    ]
    out = subprocess.run(
        cmd, cwd=REPO_ROOT, env=bench_env(), capture_output=True, timeout=60, check=True
    )
    result = json.loads(out.stdout)
    assert result["errors"] == 0, result["error_samples"]
    assert result["ok"] == 10
    assert _embeddings_served(mock) - embedded == 10  # one query embedding a turn


def _embeddings_served(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/mock/stats")
        return int(json.loads(conn.getresponse().read())["counts"].get("/v1/embeddings", 0))
    finally:
        conn.close()


def test_loadgen_refuses_non_loopback() -> None:
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        "http://10.1.2.3:80",
        "--workload",
        "chat",
        "-n",
        "1",
    ]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=bench_env(), capture_output=True, timeout=60)
    assert out.returncode != 0 and b"loopback" in out.stderr


def _res(body: bytes, status: int = 200) -> Result:
    return Result(status=status, body=body)


def test_stream_checks_catch_truncation() -> None:
    done = b'data: {"x":1}\n\ndata: [DONE]\n\n'
    assert check_chat_stream(_res(done)) is None
    assert check_chat_stream(_res(done[:-16])) is not None
    assert check_chat_stream(_res(done, status=500)) is not None

    ok = (
        b'event: response.created\ndata: {"type":"response.created"}\n\n'
        b'event: response.completed\ndata: {"type":"response.completed"}\n\n'
    )
    assert check_responses_stream(_res(ok)) is None
    assert check_responses_stream(_res(ok.split(b"event: response.completed")[0])) is not None
    failed = b'event: response.failed\ndata: {"type":"response.failed"}\n\n'
    assert check_responses_stream(_res(failed)) is not None

    assert check_responses_json(_res(b'{"status":"completed","output":[{}]}')) is None
    assert check_responses_json(_res(b'{"status":"failed","output":[]}')) is not None


def test_quick_run_against_relaystack(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--n-low",
        "3",
        "--n-high",
        "8",
        "--high-c",
        "4",
        "--duration",
        "20",
        "--chain-turns",
        "3",
        "--budget",
        "230",
        "--out",
        str(tmp_path),
    ]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=bench_env(), capture_output=True, timeout=360)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    cands = {c["candidate"] for c in results["cells"]}
    assert cands == {"direct", "relaystack"}
    # endpoints x concurrency x candidates, and input-tokens (relaystack only) x concurrency
    assert len(results["cells"]) == 8 * 2 * 2 + 2
    searched = {c["endpoint"] for c in results["cells"] if c["candidate"] == "relaystack"}
    assert {"responses-file-search", "responses-file-search-stream"} <= searched
    bad = [
        (c["endpoint"], c["concurrency"], c["candidate"], c["error_samples"])
        for c in results["cells"]
        if c["errors"] or c["ok"] == 0
    ]
    assert not bad
    assert results["chain"]["turns_completed"] == 3 and not results["chain"]["errors"]
    assert results["rss"]["after_run_kib"] > 0
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Targets" in report and "chain: own time" in report


def test_profile_summary_of_collapsed_stacks() -> None:
    from bench.profile import summarize

    raw = (
        "thread (1): MainThread;<module> (relaystack:6);_serve (relaystack/cli.py:9);"
        "Runner.run (asyncio/runners.py:118);create (relaystack/responses/service.py:40);"
        "execute (sqlalchemy/engine/base.py:1) 3\n"
        "thread (1): MainThread;<module> (relaystack:6);Runner.run (asyncio/runners.py:118) 1\n"
        "thread (2): Thread-1;_connection_worker_thread (aiosqlite/core.py:5) 4\n"
    )
    s = summarize(raw, seconds=1.0, rate=8)
    assert s["samples"] == 8 and s["main_thread_busy"] == 0.5
    assert dict(s["categories"])["store (SQLAlchemy, aiosqlite, sqlite3)"] == 7 / 8
    assert dict(s["relaystack_inclusive"]) == {"create (relaystack/responses/service.py)": 3 / 8}


@pytest.mark.parametrize("how", ["file", "module"])
def test_the_mock_runs_as_a_file_or_a_module(how: str, tmp_path: Path) -> None:
    if how == "file":
        argv, cwd = [str(REPO_ROOT / "bench" / "mock_upstream.py")], tmp_path  # from anywhere
    else:
        argv, cwd = ["-m", "bench.mock_upstream"], REPO_ROOT
    result = subprocess.run(
        [sys.executable, *argv, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--chunks" in result.stdout


def test_retrieval_bench_runs_its_speed_part() -> None:
    """``python -m bench.retrieval`` on a small store (no model work): it runs and reports."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.retrieval", "--examples", "0"),
            *("--ingest-documents", "0", "--sizes", "300", "--searches", "5"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "| 300 |" in done.stdout

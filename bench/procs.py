"""Start, watch and stop the processes of a bench run (mock upstream, relaystack)."""

from __future__ import annotations

import contextlib
import http.client
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MOCK_MODEL = "mock-model"
MOCK_EMBED_MODEL = "mock-embed"
PROVIDER_ID = "mock"
PUBLIC_MODEL = f"{PROVIDER_ID}/{MOCK_MODEL}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env() -> dict[str, str]:
    """The environment for child processes: ``bench`` importable, no proxies."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def http_get(host: str, port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``: this process only, by its pid."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)


def _affinity(cpus: set[int] | None) -> Callable[[], None] | None:
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def start_mock(
    port: int,
    chunks: int,
    delay: float,
    log: Path,
    timeout: float = 15.0,
    cpus: set[int] | None = None,
) -> Proc:
    cmd = [
        sys.executable,
        "-m",
        "bench.mock_upstream",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chunks",
        str(chunks),
        "--delay",
        str(delay),
    ]
    with log.open("wb") as errf:
        popen = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=bench_env(),
            stdout=subprocess.PIPE,
            stderr=errf,
            preexec_fn=_affinity(cpus),
        )
    proc = Proc("mock", popen, log)
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([popen.stdout], [], [], 0.2)
        if ready:
            line = popen.stdout.readline()
            if line.startswith(b"MOCK READY"):
                return proc
            if not line:
                break
        if not proc.alive():
            break
    proc.stop()
    raise RuntimeError(f"mock upstream did not start: {proc.log_tail()}")


def start_mcp_server(port: int, log: Path, timeout: float = 30.0) -> Proc:
    """``python -m bench.mcp_server``: the MCP server of the ``responses-mcp`` cells."""
    cmd = [sys.executable, "-m", "bench.mcp_server", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as errf:
        popen = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=bench_env(), stdout=subprocess.PIPE, stderr=errf
        )
    proc = Proc("mcp", popen, log)
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.alive():
        ready, _, _ = select.select([popen.stdout], [], [], 0.2)
        if ready and popen.stdout.readline().startswith(b"MCP READY"):
            return proc
    proc.stop()
    raise RuntimeError(f"MCP server did not start: {proc.log_tail()}")


def write_relaystack_config(
    path: Path, mock_port: int, db_path: Path, tokenizer: str | None = None
) -> Path:
    # The default counts mock-model's tokens by estimate; o200k_base costs ~150 MB resident.
    counting = f"    tokenizer: {tokenizer}\n" if tokenizer else ""
    path.write_text(
        "providers:\n"
        f"  - id: {PROVIDER_ID}\n"
        "    type: openai-compatible\n"
        f"    base_url: http://127.0.0.1:{mock_port}/v1\n"
        "    api_key: sk-bench\n"
        f"    models: [{MOCK_MODEL}, {MOCK_EMBED_MODEL}]\n"
        f"{counting}"
        "storage:\n"
        f"  url: sqlite+aiosqlite:///{db_path}\n"
        # The file-search cells' vector store embeds with the mock (an upstream call).
        "files:\n"
        f"  embedding_model: {PROVIDER_ID}/{MOCK_EMBED_MODEL}\n"
    )
    return path


def relaystack_command() -> list[str]:
    script = Path(sys.executable).parent / "relaystack"
    if script.exists():
        return [str(script)]
    found = shutil.which("relaystack")
    if found:
        return [found]
    return [sys.executable, "-m", "relaystack.cli"]


def wait_http_ok(proc: Proc, port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}): {proc.log_tail()}")
        try:
            status, body = http_get("127.0.0.1", port, path)
            if status == 200:
                return
            last = f"HTTP {status} {body[:200]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    proc.stop()
    raise RuntimeError(
        f"{proc.name} not healthy on :{port}{path} after {timeout}s: {last}\n{proc.log_tail()}"
    )


def start_relaystack(
    port: int,
    mock_port: int,
    workdir: Path,
    timeout: float = 60.0,
    cpus: set[int] | None = None,
    tokenizer: str | None = None,
) -> Proc:
    cfg = write_relaystack_config(
        workdir / "relaystack.yaml", mock_port, workdir / "bench.db", tokenizer
    )
    log = workdir / "relaystack.log"
    cmd = [
        *relaystack_command(),
        "serve",
        "--config",
        str(cfg),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        popen = subprocess.Popen(
            cmd,
            cwd=workdir,
            env=bench_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_affinity(cpus),
        )
    proc = Proc("relaystack", popen, log)
    wait_http_ok(proc, port, "/v1/health", timeout)
    return proc


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) in KiB from /proc, for one pid."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0])
    return out


def children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(x) for x in text.split()]
    return []


def pin_self(cpus: set[int]) -> None:
    """Pin this process (and so every child started after) to ``cpus``."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, cpus)

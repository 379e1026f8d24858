"""Profile the server with py-spy during load, and summarise py-spy's collapsed stacks.

``py-spy record --format raw --threads`` writes lines like
``thread (123): MainThread;outer (a/b.py:10);inner (c.py:3) 42``. We report, per
profiled cell, the share of samples by leaf function (self), by function anywhere
on the stack (inclusive), by package of the leaf, and by the innermost relaystack
frame (what relaystack code, with what it calls, costs).

Standalone: ``python -m bench.profile FILE.txt`` prints the summary of one file.
"""

from __future__ import annotations

import collections
import gzip
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.matrix import Candidate, Level, run_cell

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+?)(?::(?P<line>\d+))?\)$")
TOP = 20


def py_spy_path() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass
class Recorder:
    """A running ``py-spy record`` attached to one pid; ``stop()`` makes it write."""

    popen: subprocess.Popen[bytes]
    out: Path
    rate: int
    t0: float

    @classmethod
    def start(cls, pid: int, out: Path, rate: int = 200) -> Recorder | None:
        exe = py_spy_path()
        if exe is None:
            return None
        cmd = [
            exe,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--threads",
            "--rate",
            str(rate),
            "--duration",
            "300",
            "-o",
            str(out),
        ]
        popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # attach before the load starts
        return cls(popen, out, rate, time.monotonic())

    def stop(self) -> float:
        """Stop sampling; returns the seconds recorded."""
        elapsed = time.monotonic() - self.t0
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)
        return elapsed


def _frame_key(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip(), ""
    return m.group("func"), m.group("file")


def _package(file: str) -> str:
    file = file.replace("\\", "/")
    for marker in ("site-packages/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    head = file.split("/", 1)[0]
    if head.endswith(".py"):
        head = head[:-3]
    return head or "?"


CATEGORIES: dict[str, set[str]] = {
    "upstream HTTP client": {
        "aiohttp",
        "httpx",
        "httpcore",
        "h11",
        "anyio",
        "httpx_aiohttp",
        "yarl",
        "multidict",
        "aiohappyeyeballs",
        "sniffio",
        "idna",
        "certifi",
        "ssl",
        "http",
    },
    "ASGI server + framework": {"uvicorn", "starlette", "fastapi", "httptools", "h2"},
    "store (SQLAlchemy, aiosqlite, sqlite3)": {"sqlalchemy", "aiosqlite", "sqlite3", "alembic"},
    "validation + JSON": {"pydantic", "pydantic_core", "orjson", "json", "typing_extensions"},
    "relaystack's own code": {"relaystack"},
    "event loop (asyncio, C socket I/O in uvloop)": {"asyncio", "uvloop", "selectors"},
}


def category(package: str) -> str:
    for name, packages in CATEGORIES.items():
        if package in packages:
            return name
    return "other (stdlib, contextlib, typing, ...)"


def _is_own(file: str) -> bool:
    """relaystack's own request-path code (not the CLI frames every stack starts with)."""
    return file.startswith("relaystack/") and file != "relaystack/cli.py"


def summarize(
    text: str, seconds: float | None = None, rate: int | None = None, top: int = TOP
) -> dict[str, object]:
    self_c: collections.Counter[str] = collections.Counter()
    incl_c: collections.Counter[str] = collections.Counter()
    pkg_c: collections.Counter[str] = collections.Counter()
    cat_c: collections.Counter[str] = collections.Counter()
    main_cat_c: collections.Counter[str] = collections.Counter()
    rs_c: collections.Counter[str] = collections.Counter()
    rs_incl: collections.Counter[str] = collections.Counter()
    thread_c: collections.Counter[str] = collections.Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_s = line.rstrip().rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1] if frames[0].startswith("thread") else "?"
        frames = frames[1:] if frames[0].startswith("thread") else frames
        if not frames:
            continue
        total += count
        thread_c[thread] += count
        keys = [_frame_key(f) for f in frames]
        names = [f"{func} ({file})" for func, file in keys]
        self_c[names[-1]] += count
        pkg = _package(keys[-1][1])
        pkg_c[pkg] += count
        cat_c[category(pkg)] += count
        if thread == "MainThread":
            main_cat_c[category(pkg)] += count
        for name in set(names):
            incl_c[name] += count
        rs = [n for n, (_, file) in zip(names, keys, strict=True) if _is_own(file)]
        rs_c[rs[-1] if rs else "(no relaystack frame: server, framework, event loop)"] += count
        for name in set(rs):
            rs_incl[name] += count

    def share(counter: collections.Counter[str], of: int = 0) -> list[tuple[str, float]]:
        of = of or total
        return [(k, v / of) for k, v in counter.most_common(top)] if of else []

    main = thread_c.get("MainThread", 0)
    busy = main / (seconds * rate) if seconds and rate else None
    return {
        "samples": total,
        "threads": dict(thread_c.most_common()),
        "main_thread_busy": busy,
        "self": share(self_c),
        "inclusive": share(incl_c),
        "packages": share(pkg_c),
        "categories": share(cat_c),
        "main_categories": share(main_cat_c, thread_c.get("MainThread", 0)),
        "relaystack_inclusive": share(rs_incl),
        "relaystack_innermost": share(rs_c),
    }


def render(name: str, summary: dict[str, object]) -> str:
    lines = [f"### {name}", ""]
    busy = summary.get("main_thread_busy")
    busy_s = f", main thread busy {busy:.0%} of wall time" if isinstance(busy, float) else ""
    lines.append(f"{summary['samples']} samples{busy_s}; threads: {summary['threads']}")
    sections = (
        ("Self time by area (package of the innermost Python frame), all threads", "categories"),
        ("The same, event-loop (main) thread only", "main_categories"),
        ("Self time (leaf function)", "self"),
        ("Inclusive (function anywhere on the stack)", "inclusive"),
        ("Self time by package of the leaf", "packages"),
        ("relaystack functions, inclusive (with everything they call)", "relaystack_inclusive"),
        ("Innermost relaystack frame (its code plus what it calls)", "relaystack_innermost"),
    )
    for title, key in sections:
        lines += ["", f"{title}:", "", "| share | function |", "| ---: | --- |"]
        rows = summary.get(key) or []
        assert isinstance(rows, list)
        lines += [f"| {frac:.1%} | `{fn}` |" for fn, frac in rows]
    return "\n".join(lines) + "\n"


def profile_while(pid: int, raw: Path, out: Path, work: Callable[[], None]) -> dict[str, Any]:
    """Run ``work()`` with py-spy attached to ``pid``; the summary of what it sampled."""
    rec = Recorder.start(pid, raw)
    if rec is None:
        return {"error": "py-spy not installed (pip install py-spy)"}
    try:
        work()
    finally:
        seconds = rec.stop()
    text = raw.read_text() if raw.exists() else ""
    err = rec.popen.stderr.read().decode(errors="replace") if rec.popen.stderr else ""
    if not text:
        return {"error": f"py-spy wrote nothing: {err[-300:]}"}
    summary = summarize(text, seconds, rec.rate)
    gz = raw.with_suffix(".txt.gz")  # keep the raw stacks, compressed, for digging further
    gz.write_bytes(gzip.compress(text.encode(), mtime=0))
    raw.unlink()
    summary.update({"raw": str(gz.relative_to(out)), "seconds": seconds})
    return summary


def profile_endpoints(
    pid: int,
    cand: Candidate,
    endpoints: tuple[str, ...],
    level: Level,
    out: Path,
    deadline: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """One extra cell per endpoint with py-spy attached to ``pid``; summaries by endpoint."""
    prof_dir = out / "profile"
    prof_dir.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, Any] = {}
    for ep in endpoints:
        if time.monotonic() > deadline:
            summaries[ep] = {"error": "time budget reached"}
            continue
        cell: dict[str, Any] = {}

        def work(ep: str = ep, cell: dict[str, Any] = cell) -> None:
            cell.update(run_cell(cand, ep, level, 60.0))

        summary = profile_while(pid, prof_dir / f"{ep}-c{level.concurrency}.txt", out, work)
        summary["title"] = (
            f"{ep}, c={level.concurrency} ({cell.get('rps', 0):.0f} req/s while sampled, "
            f"{cell.get('errors', '?')} errors)"
        )
        summaries[ep] = summary
        log(f"profiled {summary['title']}: {summary.get('samples', 0)} samples")
    return summaries


def profile_markdown(results: dict[str, Any]) -> str:
    lines = [
        "# relaystack profile (py-spy)",
        "",
        f"Taken {results['meta']['started']} with `py-spy record --format raw --threads "
        "--rate 200` attached to the relaystack process during one extra high-concurrency "
        "cell per endpoint (and, as `chain`, during extra `previous_response_id` chains), "
        "run after the measured rounds so sampling does not skew them. "
        "Shares are of all samples of all non-idle threads (a sample whose innermost Python "
        "frame is `Runner.run` is time in the C event loop: uvloop, sockets). Raw collapsed "
        "stacks: `profile/*.txt.gz` (`python -m bench.profile FILE` re-summarises one).",
        "",
    ]
    for ep, summary in results["profile"].items():
        if "error" in summary:
            lines += [f"### {ep}", "", f"Not profiled: {summary['error']}", ""]
            continue
        lines.append(render(summary.get("title", ep), summary))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        raise SystemExit("usage: python -m bench.profile PYSPY_RAW.txt [...]")
    for path in args:
        data = Path(path).read_bytes()
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        print(render(path, summarize(data.decode())))


if __name__ == "__main__":
    main()

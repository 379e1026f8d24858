"""How busy the machine was, and how much of that was the bench itself.

The machine may be shared (other test suites, builds): the report says how much
CPU other processes took during the run, so a noisy run can be recognised.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    total_s: float  # all CPU time of all cores (busy + idle)
    busy_s: float  # not idle / iowait
    steal_s: float
    ours_s: float  # the bench's own processes


def _machine() -> tuple[float, float, float]:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return 0.0, 0.0, 0.0
    vals = [int(x) for x in fields]
    total = sum(vals[:8])  # user nice system idle iowait irq softirq steal
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    steal = vals[7] if len(vals) > 7 else 0
    return total / TICK, (total - idle) / TICK, steal / TICK


def proc_cpu_s(pid: int) -> float:
    """utime + stime of one live process, seconds (0 when it is gone)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / TICK
    return 0.0


def snapshot(pids: list[int]) -> Snapshot:
    total, busy, steal = _machine()
    t = os.times()
    ours = t.user + t.system + t.children_user + t.children_system
    ours += sum(proc_cpu_s(p) for p in pids)
    return Snapshot(total, busy, steal, ours)


def delta(a: Snapshot, b: Snapshot) -> dict[str, float]:
    total = b.total_s - a.total_s
    busy = b.busy_s - a.busy_s
    ours = b.ours_s - a.ours_s
    other = max(0.0, busy - ours)
    return {
        "capacity_core_s": total,
        "busy_core_s": busy,
        "bench_core_s": ours,
        "other_core_s": other,
        "other_share": other / total if total > 0 else float("nan"),
        "steal_core_s": b.steal_s - a.steal_s,
    }


def total(deltas: list[dict[str, float]]) -> dict[str, float]:
    """Sum of several ``delta`` results (e.g. the rounds, without the waits between)."""
    keys = ("capacity_core_s", "busy_core_s", "bench_core_s", "other_core_s", "steal_core_s")
    out = {k: sum(d[k] for d in deltas) for k in keys}
    cap = out["capacity_core_s"]
    out["other_share"] = out["other_core_s"] / cap if cap > 0 else float("nan")
    return out


def loadavg() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def other_share(window_s: float = 3.0) -> float:
    """Share of the machine used by processes other than this one over ``window_s``."""
    a = snapshot([])
    time.sleep(window_s)
    return delta(a, snapshot([]))["other_share"]


def wait_quiet(max_wait_s: float, threshold: float, log: Callable[[str], None]) -> float:
    """Wait (at most ``max_wait_s``) until others use under ``threshold`` of the machine."""
    deadline = time.monotonic() + max_wait_s
    share = other_share()
    while share > threshold and time.monotonic() < deadline:
        log(f"machine busy: other processes use {share:.0%} (> {threshold:.0%}); waiting")
        time.sleep(min(20.0, max(0.0, deadline - time.monotonic())))
        share = other_share()
    return share

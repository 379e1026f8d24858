"""PNG chart of a run: latency and throughput per endpoint and candidate (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.aggregate import medians
from bench.matrix import ENDPOINTS


def _bars(
    ax: Any,
    table: dict[tuple[str, str, int], dict[str, float]],
    candidates: list[str],
    conc: int,
    stat: str,
    title: str,
    ylabel: str,
    log: bool,
) -> None:
    width = 0.8 / max(1, len(candidates))
    for i, cand in enumerate(candidates):
        vals = [table.get((cand, ep, conc), {}).get(stat, 0.0) for ep in ENDPOINTS]
        vals = [0.0 if v != v else v for v in vals]
        xs = [j + (i - (len(candidates) - 1) / 2) * width for j in range(len(ENDPOINTS))]
        bars = ax.bar(xs, vals, width, label=cand)
        for b, v in zip(bars, vals, strict=True):
            if v > 0:
                label = f"{v:.0f}" if v >= 100 else f"{v:.2f}"
                ax.annotate(
                    label, (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=7
                )
    ax.set_xticks(range(len(ENDPOINTS)), ENDPOINTS, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)


def write_chart(results: dict[str, Any], out: Path) -> bool:
    """Write the PNG; False (and no file) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cells = results["cells"]
    table = medians(cells)
    candidates = list(results["meta"]["candidates"])
    levels = sorted(lv["concurrency"] for lv in results["meta"]["levels"])
    low, high = levels[0], levels[-1]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    _bars(axes[0][0], table, candidates, low, "p50", f"p50 latency, c={low} (ms, log)", "ms", True)
    _bars(
        axes[0][1], table, candidates, high, "p99", f"p99 latency, c={high} (ms, log)", "ms", True
    )
    _bars(
        axes[1][0],
        table,
        candidates,
        high,
        "rps",
        f"throughput, c={high} (req/s, log)",
        "req/s",
        True,
    )
    ax = axes[1][1]
    chain = results.get("chain")
    if chain and chain.get("own_ms"):
        turns = list(range(1, len(chain["own_ms"]) + 1))
        ax.plot(turns, chain["own_ms"], label="relaystack own time")
        ax.plot(turns, chain["server_ms"], label="relaystack total", alpha=0.6)
        ax.plot(turns, chain["direct_ms"], label="mock direct", alpha=0.6)
        ax.set_xlabel("turn of the previous_response_id chain")
        ax.set_ylabel("ms (median across chains)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    ax.set_title("chain cost per turn", fontsize=10)
    fig.suptitle(f"relaystack bench - {results['meta']['started']}", fontsize=11)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True

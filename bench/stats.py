"""Percentiles and medians without numpy."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac)


def summarize_ms(values_s: Iterable[float]) -> dict[str, float]:
    """p50/p90/p99/mean/max in milliseconds of durations given in seconds."""
    vals = sorted(v * 1000.0 for v in values_s)
    if not vals:
        nan = float("nan")
        return {"p50": nan, "p90": nan, "p99": nan, "mean": nan, "max": nan}
    return {
        "p50": percentile(vals, 50),
        "p90": percentile(vals, 90),
        "p99": percentile(vals, 99),
        "mean": statistics.fmean(vals),
        "max": vals[-1],
    }


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v == v]  # drop NaN
    return statistics.median(vals) if vals else float("nan")

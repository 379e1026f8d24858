"""Chain cost: a ``previous_response_id`` chain of N turns, relaystack's own time per turn.

For turn k the server is sent ``input`` plus ``previous_response_id`` of turn k-1.
Right before it, the mock is sent directly the chat stream the server itself has
to send upstream for that turn (all 2k-1 prior messages), so

    own time(k) = server latency(k) - direct mock latency(k)

excludes the upstream's time, including the cost of its bigger request bodies.
Several chains are run. A single turn is noisy at this scale (a few ms), so the
verdict compares 5-turn windows (turns 1-5 vs 96-100), all chains pooled; the
single-turn medians are reported too.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import orjson

from bench.httpclient import Connection, build_request
from bench.loadgen import api_prefix
from bench.mock_payloads import MockShape
from bench.stats import median
from bench.workloads import check_chat_stream, check_responses_json

SMOOTH_TURNS = 5  # the ratio compares 5-turn windows, all chains pooled


@dataclass(frozen=True)
class ChainSpec:
    server_url: str
    mock_url: str
    server_model: str
    mock_model: str
    turns: int = 100
    chains: int = 3
    mock_chunks: int = 40
    timeout: float = 60.0
    budget_s: float = 240.0


def _turn_text(k: int) -> str:
    return f"Turn {k}: tell me one more thing."


async def _one_chain(
    spec: ChainSpec, server: Connection, mock: Connection, deadline: float
) -> tuple[list[float], list[float], list[str]]:
    s_host, s_port, s_prefix = api_prefix(spec.server_url)
    m_host, m_port, m_prefix = api_prefix(spec.mock_url)
    answer = MockShape(spec.mock_chunks).text()
    messages: list[dict[str, str]] = []
    server_ms: list[float] = []
    direct_ms: list[float] = []
    errors: list[str] = []
    prev: str | None = None
    for k in range(1, spec.turns + 1):
        if time.monotonic() > deadline:
            errors.append(f"time budget reached at turn {k}")
            break
        messages.append({"role": "user", "content": _turn_text(k)})
        direct_body = orjson.dumps(
            {
                "model": spec.mock_model,
                "messages": messages,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        raw = build_request("POST", m_host, m_port, m_prefix + "/chat/completions", direct_body)
        res = await mock.request(raw, b"", spec.timeout)
        if problem := check_chat_stream(res):
            errors.append(f"direct turn {k}: {problem}")
            break
        direct_ms.append((res.t_end - res.t_start) * 1000)

        req: dict[str, object] = {"model": spec.server_model, "input": _turn_text(k)}
        if prev is not None:
            req["previous_response_id"] = prev
        raw = build_request("POST", s_host, s_port, s_prefix + "/responses", orjson.dumps(req))
        try:
            res = await server.request(raw, b"", spec.timeout)
        except Exception as exc:  # a failed turn ends this chain
            errors.append(f"turn {k}: {type(exc).__name__}: {exc}")
            break
        if problem := check_responses_json(res):
            errors.append(f"turn {k}: {problem}")
            break
        server_ms.append((res.t_end - res.t_start) * 1000)
        prev = orjson.loads(res.body)["id"]
        messages.append({"role": "assistant", "content": answer})
    return server_ms, direct_ms, errors


async def run_chain(spec: ChainSpec) -> dict[str, object]:
    s_host, s_port, _ = api_prefix(spec.server_url)
    m_host, m_port, _ = api_prefix(spec.mock_url)
    server, mock = Connection(s_host, s_port), Connection(m_host, m_port)
    deadline = time.monotonic() + spec.budget_s
    per_chain: list[dict[str, list[float]]] = []
    errors: list[str] = []
    try:
        for _ in range(spec.chains):
            s_ms, d_ms, errs = await _one_chain(spec, server, mock, deadline)
            per_chain.append({"server_ms": s_ms, "direct_ms": d_ms})
            errors += errs
            if errs:
                break
    finally:
        server.close()
        mock.close()
    return summarize_chain(spec, per_chain, errors)


def _window(k: int, turns: int, width: int) -> range:
    """``width`` turns around turn ``k`` (1-based), shifted to stay inside 1..turns."""
    lo = max(1, min(k - width // 2, turns - width + 1))
    return range(lo, min(turns, lo + width - 1) + 1)


def _fit(ys: list[float]) -> tuple[float, float]:
    """Least-squares line through (turn, ys[turn-1]): (slope, intercept)."""
    n = len(ys)
    if n < 2:
        return float("nan"), float("nan")
    xs = range(1, n + 1)
    mx, my = (n + 1) / 2, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


def summarize_chain(
    spec: ChainSpec, per_chain: list[dict[str, list[float]]], errors: list[str]
) -> dict[str, object]:
    turns = min((len(c["server_ms"]) for c in per_chain), default=0)
    own_by_chain = [
        [c["server_ms"][i] - c["direct_ms"][i] for i in range(turns)] for c in per_chain
    ]
    own = [median(o[i] for o in own_by_chain) for i in range(turns)]
    server = [median(c["server_ms"][i] for c in per_chain) for i in range(turns)]
    direct = [median(c["direct_ms"][i] for c in per_chain) for i in range(turns)]
    width = min(SMOOTH_TURNS, turns)
    points: dict[str, dict[str, float]] = {}
    for k in sorted({1, min(50, (turns + 1) // 2), turns} if turns else set()):
        win = _window(k, turns, width)
        points[str(k)] = {
            "own_ms": own[k - 1],
            "own_smoothed_ms": median(o[i - 1] for o in own_by_chain for i in win),
            "window": f"{win.start}-{win.stop - 1}",
            "server_ms": server[k - 1],
            "direct_ms": direct[k - 1],
        }

    def ratio(key: str) -> float:
        if not turns:
            return float("nan")
        first, last = points["1"][key], points[str(turns)][key]
        return last / first if first > 0 else float("nan")

    slope, intercept = _fit(own)
    return {
        "slope_ms_per_turn": slope,
        "intercept_ms": intercept,
        "turns_requested": spec.turns,
        "turns_completed": turns,
        "chains": len(per_chain),
        "smooth_turns": width,
        "points": points,
        "ratio": ratio("own_smoothed_ms"),
        "ratio_single_turn": ratio("own_ms"),
        "own_ms": own,
        "server_ms": server,
        "direct_ms": direct,
        "errors": errors,
    }


def run_chain_sync(spec: ChainSpec) -> dict[str, object]:
    return asyncio.run(run_chain(spec))

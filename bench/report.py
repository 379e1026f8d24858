"""Render the run's results (the raw JSON) as a markdown report."""

from __future__ import annotations

from typing import Any

from bench.aggregate import DIRECT, SERVER, added, medians, target_rows
from bench.background import markdown as background_markdown
from bench.matrix import ENDPOINTS


def _f(v: float, digits: int = 2) -> str:
    return "-" if v != v else f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _meta(meta: dict[str, Any]) -> list[str]:
    return [
        f"- Command: `{meta['command']}`",
        f"- Date: {meta['started']} (took {meta['duration_s']:.0f} s); commit `{meta['commit']}`",
        f"- Machine: {meta['cpu']} x {meta['nproc']} cores, Python {meta['python']}",
        f"- Rounds: {meta['rounds_done']} of {meta['rounds']} (candidates interleaved "
        "round by round, order rotated each round); levels: "
        + ", ".join(
            f"c={lv['concurrency']} ({lv['requests']} requests or "
            f"{lv['duration']:.0f} s, {lv['warmup']} warm-up)"
            for lv in meta["levels"]
        ),
        f"- Mock upstream: {meta['mock_chunks']} content chunks per stream, "
        f"{meta['mock_delay'] * 1000:.1f} ms between chunks; relaystack: single process, "
        "default settings, SQLite store in a temp dir",
        "- Candidates: " + ", ".join(f"{k} = {v}" for k, v in meta["candidates"].items()),
    ]


def _cells(cells: list[dict[str, Any]]) -> list[str]:
    med = medians(cells)
    rows = []
    for ep in ENDPOINTS:
        for (cand, e, c), m in sorted(med.items(), key=lambda kv: (kv[0][2], kv[0][0])):
            if e != ep:
                continue
            rows.append(
                [
                    ep,
                    f"{c}",
                    cand,
                    f"{m['rounds']:.0f}",
                    f"{m['ok']:.0f}",
                    f"{m['errors']:.0f}",
                    _f(m["rps"], 0),
                    _f(m["p50"]),
                    _f(m["p90"]),
                    _f(m["p99"]),
                    _f(m["ttfb_p50"]),
                    _f(m["ttft_p50"]),
                ]
            )
    return _table(
        [
            "endpoint",
            "c",
            "candidate",
            "rounds",
            "ok",
            "errors",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "TTFB p50",
            "first token p50",
        ],
        rows,
    )


def _added(cells: list[dict[str, Any]], candidates: list[str]) -> list[str]:
    rows = []
    for cand in candidates:
        if cand == DIRECT:
            continue
        for ep in ENDPOINTS:
            stream = ep.endswith("stream")
            rows.append(
                [
                    cand,
                    ep,
                    _f(added(cells, cand, ep, 1)),
                    _f(added(cells, cand, ep, 1, stat="p99")),
                    _f(added(cells, cand, ep, 1, "ttfb_ms")) if stream else "-",
                    _f(added(cells, cand, ep, 1, "ttft_ms")) if stream else "-",
                ]
            )
    return _table(
        [
            "candidate",
            "endpoint",
            "added p50 ms",
            "added p99 ms",
            "added TTFB p50 ms",
            "added first-token p50 ms",
        ],
        rows,
    )


def _chain(chain: dict[str, Any]) -> list[str]:
    rows = [
        [
            f"turn {k}",
            _f(p["own_smoothed_ms"]),
            p["window"],
            _f(p["own_ms"]),
            _f(p["server_ms"]),
            _f(p["direct_ms"]),
        ]
        for k, p in chain["points"].items()
    ]
    header = [
        "turn",
        "own ms (window median)",
        "window",
        "own ms (this turn)",
        "relaystack total ms",
        "mock direct ms",
    ]
    out = [
        f"{chain['chains']} chain(s) of {chain['turns_completed']} turns "
        f"(asked {chain['turns_requested']}), `/v1/responses` JSON, stored. Own time = "
        "relaystack latency minus the mock's latency for the exact chat request relaystack "
        'sends for that turn (sent directly right before). "This turn" is the median across '
        "chains; the window median pools all chains over the turns of the window.",
        "",
        *_table(header, rows),
        "",
        f"- Ratio of window medians, last / first: **{_f(chain['ratio'])}x** (the verdict)",
        f"- Ratio of single-turn medians, last / first: {_f(chain['ratio_single_turn'])}x",
        f"- Least-squares fit of own time: {_f(chain['intercept_ms'])} ms + "
        f"{_f(chain['slope_ms_per_turn'] * 1000, 1)} µs x turn (the cost that grows with "
        "the history)",
    ]
    if chain["errors"]:
        out += ["", "Chain errors: " + "; ".join(f"`{e[:200]}`" for e in chain["errors"])]
    return out


def _machine(cpu: dict[str, Any]) -> list[str]:
    run = cpu.get("run")
    if not run:
        return ["Not measured."]
    out = [
        f"- Load average at start {cpu.get('loadavg_start', '?')}, at the end of the rounds "
        f"and chain {cpu.get('loadavg_end', '?')}",
        f"- CPU during the rounds and the chain (waits excluded): {run['busy_core_s']:.0f} of "
        f"{run['capacity_core_s']:.0f} core-seconds busy; the bench's own processes "
        f"(mock, relaystack, load generators) {run['bench_core_s']:.0f}; **other processes "
        f"{run['other_core_s']:.0f} core-s ({run['other_share']:.0%} of the machine)**; "
        f"steal {run['steal_core_s']:.1f} core-s",
    ]
    if "other_share_before" in cpu:
        out.append(
            f"- Before starting (`--wait-quiet`), other processes used "
            f"{cpu['other_share_before']:.0%} of the machine"
        )
    if cpu.get("other_share_before_round"):
        waits = ", ".join(f"{x:.0%}" for x in cpu["other_share_before_round"])
        out.append(f"- Other processes' share when rounds 2.. started (after waiting): {waits}")
    if cpu.get("per_round"):
        shares = ", ".join(f"{r['other_share']:.0%}" for r in cpu["per_round"])
        out.append(f"- Share of the machine taken by other processes, round by round: {shares}")
    out.append(
        "- A large share means the machine was shared during the run (other test suites, "
        "builds): the numbers then understate what relaystack does on a quiet machine."
    )
    return out


def _errors(cells: list[dict[str, Any]]) -> list[str]:
    out = []
    for c in cells:
        if c["errors"]:
            samples = "; ".join(f"`{s[:160]}`" for s in c.get("error_samples", [])[:3])
            out.append(
                f"- round {c['round'] + 1} {c['endpoint']} c={c['concurrency']} "
                f"{c['candidate']}: {c['errors']} errors: {samples}"
            )
    return out or ["None."]


def render(results: dict[str, Any]) -> str:
    meta, cells = results["meta"], results["cells"]
    rss = results.get("rss", {})
    rss_mb = rss.get("after_run_kib", float("nan")) / 1024
    chain = results.get("chain")
    lines = ["# relaystack benchmark", "", *_meta(meta), ""]
    lines += ["## Targets (relaystack, single process, medians over rounds)", ""]
    lines += _table(
        ["target", "goal", "measured", "result"],
        [list(r) for r in target_rows(cells, rss_mb, chain)],
    )
    lines += [
        "",
        "Added latency is relaystack minus the direct-to-mock baseline in the same "
        "round, median over rounds. For `/v1/responses` the direct baseline is the "
        "mock's chat completions stream of the same length (what relaystack itself "
        "calls upstream). TTFB = first response body byte; first token = first "
        'content delta (`"content"` in a chat chunk, `response.output_text.delta` '
        "event).",
        "",
    ]
    lines += ["## Every cell (medians over rounds; latencies in ms)", "", *_cells(cells), ""]
    lines += ["## Added latency at c=1 vs direct", "", *_added(cells, list(meta["candidates"])), ""]
    if chain is not None:
        lines += [
            "## Chain cost (`previous_response_id`, upstream time excluded)",
            "",
            *_chain(chain),
            "",
        ]
    if results.get("background"):
        lines += [
            "## Background responses (`bench.background`, servers of their own)",
            "",
            background_markdown(results["background"]),
            "",
        ]
    lines += [
        "## Memory",
        "",
        f"- relaystack VmRSS after the run: **{rss_mb:.1f} MB** "
        f"(peak VmHWM {rss.get('peak_kib', float('nan')) / 1024:.1f} MB, "
        f"after start-up {rss.get('start_kib', float('nan')) / 1024:.1f} MB)",
    ]
    if rss.get("per_round_kib"):
        lines.append(
            "- VmRSS after each round: "
            + ", ".join(f"{v / 1024:.1f} MB" for v in rss["per_round_kib"])
        )
    lc = medians(cells).get((DIRECT, "chat", max(lv["concurrency"] for lv in meta["levels"])))
    lines += ["", "## Load generator capacity", ""]
    if lc:
        lines.append(
            f"Direct to the mock, chat JSON at the highest concurrency: "
            f"{lc['rps']:.0f} req/s, so the client and the mock are not the limit "
            "for any relaystack cell."
        )
    lines += ["", "## Machine load during the run", "", *_machine(results.get("cpu", {}))]
    lines += ["", "## Errors", "", *_errors(cells), ""]
    if results.get("notes"):
        lines += ["## Notes", "", *(f"- {n}" for n in results["notes"]), ""]
    if results.get("profile"):
        lines += [
            "## Profile",
            "",
            "See [PROFILE.md](PROFILE.md) (py-spy, c="
            f"{max(lv['concurrency'] for lv in meta['levels'])} cells, run after the "
            "measured rounds so sampling does not skew them).",
            "",
        ]
    lines.append(
        f"Chart: ![chart](chart.png). Raw data: `results.json`. ({SERVER} single process.)"
    )
    return "\n".join(lines) + "\n"

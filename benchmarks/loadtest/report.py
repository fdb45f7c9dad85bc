"""Figures of the load test: summaries, the Markdown table, the JSON and the PNG chart."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

GOAL = 0.90  # warm-token req/s over bare req/s, same run
BIN = 0.25  # s, timeline resolution


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def steady_summary(raw: dict[str, Any]) -> dict[str, Any]:
    """Per route: median req/s over its slices, p50/p99 latency, errors, ratio to bare."""
    rows: dict[str, Any] = {}
    for name, rec in raw.items():
        statuses = rec["statuses"]
        rows[name] = {
            "req_s": round(statistics.median(rec["slices"]), 1),
            "req_s_slices": [round(s, 1) for s in rec["slices"]],
            "p50_ms": round(_pct(rec["latencies"], 0.50) * 1000, 2),
            "p99_ms": round(_pct(rec["latencies"], 0.99) * 1000, 2),
            "requests": len(rec["latencies"]),
            "errors": sum(n for s, n in statuses.items() if s != "200"),
            "statuses": statuses,
        }
    # paired: each round's slice over the bare slice of the same round (drift on a
    # shared machine moves both), then the median over rounds
    bare_slices = rows["bare"]["req_s_slices"]
    for row in rows.values():
        pairs = [s / b for s, b in zip(row["req_s_slices"], bare_slices, strict=True) if b]
        row["ratio_to_bare"] = round(statistics.median(pairs), 3) if pairs else 0.0
        row["ratio_of_medians"] = round(row["req_s"] / rows["bare"]["req_s"], 3)
    return rows


def outage_summary(
    records: list[list[Any]], *, start: float, frozen: float, thawed: float
) -> dict[str, Any]:
    """Status counts before, during and after the freeze; recovery after SIGCONT."""
    phases: dict[str, dict[str, dict[str, int]]] = {}
    bins: dict[str, dict[str, list[int]]] = {}
    for sent, done, route, status in records:
        phase = "before" if done < frozen else "during" if sent < thawed else "after"
        by_status = phases.setdefault(phase, {}).setdefault(route, {})
        by_status[str(status)] = by_status.get(str(status), 0) + 1
        slot = int((done - start) / BIN)
        series = bins.setdefault(route, {}).setdefault(str(status), [])
        series.extend([0] * (slot + 1 - len(series)))
        series[slot] += 1
    revoked_200 = sum(1 for _, _, route, status in records if route == "revoked" and status == 200)
    after_valid = sorted(
        (done, status)
        for sent, done, route, status in records
        if route == "valid" and sent >= thawed
    )
    failures = [done for done, status in after_valid if status != 200]
    first_ok = next((done for done, status in after_valid if status == 200), None)
    return {
        "gap_s": round(thawed - frozen, 2),
        "frozen_at_s": round(frozen - start, 2),
        "thawed_at_s": round(thawed - start, 2),
        "phases": phases,
        "revoked_accepted": revoked_200,
        "first_200_after_thaw_ms": None if first_ok is None else round((first_ok - thawed) * 1000),
        "recovered_after_ms": round((max(failures) - thawed) * 1000) if failures else 0,
        "bin_s": BIN,
        "bins": bins,
    }


def markdown(report: dict[str, Any]) -> str:
    v = report["versions"]
    lines = [
        f"nproc {v['nproc']}, Python {v['python']}, nexios {v['nexios']}, uvicorn "
        f"{v['uvicorn']}, Redis {v['redis_server']} (redis-py {v['redis_py']}); "
        f"{report['setup']['workers']} workers, {report['setup']['clients']} clients, "
        f"{report['setup']['rounds']} rounds x {report['setup']['slice_s']} s per route; "
        "x bare: median over rounds of the route's req/s over bare's in the same round.",
        "",
        "| route | req/s | x bare | p50 ms | p99 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in report["steady"].items():
        lines.append(
            f"| {name} | {row['req_s']:.0f} | {row['ratio_to_bare']:.2f} | {row['p50_ms']:.2f} "
            f"| {row['p99_ms']:.2f} | {row['requests']} | {row['errors']} |"
        )
    gap = report.get("outage")
    if gap:
        lines += [
            "",
            f"Redis frozen (SIGSTOP) for {gap['gap_s']} s:",
            "",
            "| phase | valid token | revoked token |",
            "|---|---|---|",
        ]
        for phase in ("before", "during", "after"):
            cells = [
                ", ".join(
                    f"{s}: {n}"
                    for s, n in sorted(gap["phases"].get(phase, {}).get(route, {}).items())
                )
                for route in ("valid", "revoked")
            ]
            lines.append(f"| {phase} | {cells[0]} | {cells[1]} |")
        lines += [
            "",
            f"Revoked tokens accepted: {gap['revoked_accepted']}. First 200 after SIGCONT: "
            f"{gap['first_200_after_thaw_ms']} ms; last error after SIGCONT: "
            f"{gap['recovered_after_ms']} ms.",
        ]
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gap = report.get("outage")
    fig, axes = plt.subplots(1, 2 if gap else 1, figsize=(13 if gap else 7, 4.2), squeeze=False)
    ax = axes[0][0]
    names = list(report["steady"])
    rows = [report["steady"][n] for n in names]
    bars = ax.bar(names, [r["req_s"] for r in rows], color="#4C72B0")
    for bar, row in zip(bars, rows, strict=True):
        ax.annotate(
            f"{row['ratio_to_bare']:.2f}x\np99 {row['p99_ms']:.0f} ms",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel("requests/s (median of slices)")
    ax.set_title("uvicorn x2 workers, Redis + cached revocation view")
    ax.tick_params(axis="x", rotation=25, labelsize=8)
    ax.margins(y=0.2)
    if gap:
        ax = axes[0][1]
        step = gap["bin_s"]
        for route, colour in (("valid", "#55A868"), ("revoked", "#C44E52")):
            for status, series in sorted(gap["bins"].get(route, {}).items()):
                xs = [i * step for i in range(len(series))]
                style = "-" if route == "valid" else "--"
                ax.plot(
                    xs,
                    [n / step for n in series],
                    style,
                    label=f"{route} -> {status}",
                    color=colour if status in ("200", "401") else None,
                )
        ax.axvspan(
            gap["frozen_at_s"], gap["thawed_at_s"], color="grey", alpha=0.2, label="Redis frozen"
        )
        ax.set_xlabel("s")
        ax.set_ylabel("responses/s")
        ax.set_title(f"Redis frozen {gap['gap_s']} s: revoked accepted = {gap['revoked_accepted']}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(report: dict[str, Any], folder: Path, charts: Path) -> bool:
    """Write the three outputs, print the table, return whether every rule held."""
    folder.mkdir(parents=True, exist_ok=True)
    steady = report["steady"]
    warm = steady["token warm"]["ratio_to_bare"]
    errors = sum(r["errors"] for r in steady.values())
    gap = report.get("outage")
    rules = {
        f"warm token >= {GOAL:.2f}x bare": warm >= GOAL,
        "0 errors in the steady run": errors == 0,
    }
    if gap:
        rules["no revoked token accepted during the outage"] = gap["revoked_accepted"] == 0
    report["rules"] = rules
    (folder / "loadtest.json").write_text(json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    table += "\n" + "\n".join(f"- {'PASS' if ok else 'FAIL'}: {rule}" for rule, ok in rules.items())
    (folder / "loadtest.md").write_text(table + "\n")
    charts.mkdir(parents=True, exist_ok=True)
    chart(report, charts / "loadtest.png")
    print(table)
    # the throughput goal is reported, not enforced: on a shared machine it is a figure;
    # errors and an accepted revoked token are defects
    return all(ok for rule, ok in rules.items() if "bare" not in rule)

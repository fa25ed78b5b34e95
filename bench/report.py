"""``summary.md``: one table of every figure in a results directory."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.artifact import VARIANTS
from bench.common import read_json


def _load(out: Path, name: str) -> Any:
    path = out / name
    return read_json(path) if path.exists() else None


def _met(value: bool | None) -> str:
    if value is None:
        return "-"
    return "met" if value else "**missed**"


def _usd(value: float) -> str:
    return f"${value:.6f}"


def _rows_of(
    out: Path, name: str, rows: Callable[[Any], list[tuple[str, str, str, str]]]
) -> list[tuple[str, str, str, str]]:
    """The summary rows of one result file (none when it is absent)."""
    data = _load(out, name)
    return rows(data) if data else []


def _fire_rows(out: Path) -> list[tuple[str, str, str, str]]:
    rows = []
    for path in sorted(out.glob("fire-*.json"), key=lambda p: _fire_order(p.stem)):
        data = read_json(path)
        err = data["fire_error_ms"]
        cfg = data["config"]
        target = data.get("target_p99_ms")
        knobs = (
            f"eBay sim {'own process' if cfg['external_ebay'] else 'in process'},"
            f" switch {cfg['switch_interval_s'] * 1000:g} ms,"
            f" pool {cfg.get('ebay_keepalive') or 'product'}"
            + (
                f", {cfg['shards']} engine processes"
                if cfg.get("shards", 1) > 1
                else ""
            )
        )
        rows.append(
            (
                f"Fire error, {data['run']} ({knobs}; lead {cfg['lead_s']:g} s)",
                f"p50 {err['p50']:.1f} / p95 {err['p95']:.1f} / p99 {err['p99']:.1f}"
                f" / max {err['max']:.1f} ms; lost {data['lost']}, after the end"
                f" {data.get('arrived_after_end', 0)}, late"
                f" >250 ms {data['late_over_250ms']}; all created"
                f" {data['schedule']['margin_before_first_wake_s']:.1f} s before"
                " the first wake-up" + _engine_cpu(data),
                f"p99 <= {target:g} ms, none lost" if target else "-",
                _met(data.get("target_met")),
            )
        )
    return rows


def _engine_cpu(data: dict[str, Any]) -> str:
    cpu = data.get("engine_cpu") or {}
    if not cpu.get("cores_needed_at_window_rate") or data["config"]["window_s"] < 10:
        return ""
    return (
        f"; engine CPU {cpu['cpu_ms_per_snipe']:.0f} ms/snipe ="
        f" {cpu['cores_needed_at_window_rate']:.2f} cores at the window's rate"
    )


def _fire_order(stem: str) -> tuple[int, str]:
    digits = "".join(ch for ch in stem.split("-")[1] if ch.isdigit()) or "0"
    return int(digits), stem


def _cost_rows(data: Any) -> list[tuple[str, str, str, str]]:
    rows = []
    targets = data["targets"]
    for outcome in ("WON", "LOST", "CANCELLED", "SKIPPED"):
        row = data["outcomes"].get(outcome)
        if row is None:
            continue
        usd = row["usd"]
        transitions = row["state_transitions"]
        rows.append(
            (
                f"Cost per {outcome} snipe (median of {row['snipes']})",
                f"{_usd(row['usd_all'])} all-in = {_usd(row['usd_core'])} core"
                f" (Step Functions {transitions:g} transitions"
                f" {_usd(usd['step_functions'])}, Lambda {row['gb_seconds']:.3f} GB-s"
                f" {_usd(usd['lambda_duration'] + usd['lambda_requests'])},"
                f" DynamoDB {row['wru']:g} WRU + {row['rru']:g} RRU"
                f" {_usd(usd['dynamodb_writes'] + usd['dynamodb_reads'])})"
                f" + other {_usd(row['usd_all'] - row['usd_core'])}"
                f" (KMS {row['kms_calls']:g} calls {_usd(usd['kms'])}, API Gateway,"
                " Logs, X-Ray upper bound)",
                f"<= ${targets['usd_per_snipe']}"
                + (
                    f"; <= {targets['transitions_won']} transitions"
                    if outcome == "WON"
                    else ""
                ),
                _met(
                    row["usd_all"] <= targets["usd_per_snipe"]
                    and (outcome != "WON" or transitions <= targets["transitions_won"])
                ),
            )
        )
    return rows


def _api_rows(data: Any) -> list[tuple[str, str, str, str]]:
    rows = []
    for clients, level in data["latency_ms"].items():
        parts = [
            f"{op} p50 {level[op]['p50']:.1f} / p99 {level[op]['p99']:.1f}"
            f" (n={level[op]['count']})"
            for op in ("create", "list", "get")
        ]
        rows.append(
            (
                f"API latency, {clients} concurrent client(s), local HTTP + JWT (ms)",
                "; ".join(parts),
                "-",
                "-",
            )
        )
    return rows


def _coldstart_rows(data: Any) -> list[tuple[str, str, str, str]]:
    rows = []
    target = data["target_ratio"]
    pyc = data["import"].get("pyc", {})
    source = data["import"].get("source", {})
    base = pyc.get("boto3", {})
    for module, row in pyc.items():
        if module == "boto3":
            continue
        extra = ""
        if module in source:
            plain = source[module]
            extra = (
                f"; without .pyc (compiled at import) {plain['median_ms']:.0f} ms"
                f" = {plain['ratio_to_boto3']:.2f}x boto3 compiled alike,"
                f" {plain['median_ms'] - row['median_ms']:.0f} ms more"
            )
        rows.append(
            (
                f"Cold import `{module}` vs `import boto3` (median of {row['runs']})",
                f"{row['ratio_to_boto3']:.2f}x ({row['median_ms']:.0f} ms vs"
                f" {base.get('median_ms', math.nan):.0f} ms){extra}",
                f"<= {target}x",
                _met(row["ratio_to_boto3"] <= target),
            )
        )
    return rows


def _artifact_rows(data: Any) -> list[tuple[str, str, str, str]]:
    if data.get("smoke"):
        return []
    rows = []
    limit = data["target_zipped_bytes"]
    sizes = {
        fn: row["zipped_bytes"]
        for fn, row in data["functions"].items()
        if "zipped_bytes" in row
    }
    if sizes:
        low, high = min(sizes.values()), max(sizes.values())
        unzipped = max(
            r["unzipped_bytes"]
            for r in data["functions"].values()
            if "unzipped_bytes" in r
        )
        rows.append(
            (
                f"Zipped artifact per function, as built ({len(sizes)} functions)",
                f"{low / 2**20:.2f}-{high / 2**20:.2f} MiB"
                f" ({high:,} bytes max; unzipped {unzipped / 2**20:.1f} MiB)",
                f"<= {limit / 2**20:g} MiB",
                _met(high <= limit),
            )
        )
    order = list(VARIANTS)
    for name, row in sorted(
        data["variants"].items(),
        key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order),
    ):
        if name == "as_built":
            continue
        rows.append(
            (
                f"Zipped artifact, variant `{name}`",
                f"{row['zipped_bytes'] / 2**20:.2f} MiB ({row['zipped_bytes']:,} bytes;"
                f" unzipped {row['unzipped_bytes'] / 2**20:.1f} MiB)",
                f"<= {limit / 2**20:g} MiB",
                _met(row["zipped_bytes"] <= limit),
            )
        )
    return rows


_Rows = Callable[[Any], list[tuple[str, str, str, str]]]
# Each suite's result file and the rows it gives (the fire suite's are per run).
_SUITES: dict[str, tuple[str, _Rows]] = {
    "cost": ("cost.json", _cost_rows),
    "api": ("api.json", _api_rows),
    "coldstart": ("coldstart.json", _coldstart_rows),
    "artifact": ("artifact.json", _artifact_rows),
}


def suite_rows(out: Path, suite: str) -> list[tuple[str, str, str, str]]:
    """The summary rows of one suite's result file (none when it is absent)."""
    name, rows = _SUITES[suite]
    return _rows_of(out, name, rows)


def write_summary(out: Path) -> Path:
    rows = [
        *_fire_rows(out),
        *(row for suite in _SUITES for row in suite_rows(out, suite)),
    ]
    run = _load(out, "run.json") or {}
    machine = run.get("start", {})
    lines = [
        "| Figure | Value | Target | |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        (
            f"Machine: {machine.get('nproc')} CPUs ({machine.get('cpu_model')}),"
            f" {machine.get('memory_gib')} GiB, Python {machine.get('python')},"
            f" load average {machine.get('load_average_1_5_15')} at start,"
            f" {machine.get('taken_at')}, git {machine.get('git_head')}"
            f"{' (dirty)' if machine.get('git_dirty') else ''}."
        ),
    ]
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path

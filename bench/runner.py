"""Runs the suites in order and writes ``summary.md`` (see ``bench.report``)."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import report
from bench.common import machine, write_json


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _fire(out: Path, smoke: bool, only: Sequence[str]) -> None:
    from bench.fire import SMOKE_RUNS, STANDARD_RUNS, run_fire
    from bench.shard import run_sharded

    runs = SMOKE_RUNS if smoke else STANDARD_RUNS
    unknown = sorted(set(only) - {run.name for run in runs})
    if unknown:
        known = ", ".join(run.name for run in runs)
        raise ValueError(f"unknown fire run(s) {', '.join(unknown)}; known: {known}")
    for run in runs:
        if only and run.name not in only:
            continue
        shards = f" on {run.shards} engine processes" if run.shards > 1 else ""
        _say(f"fire {run.name}: {run.snipes} snipes over {run.window_s:g} s{shards}")
        result = run_sharded(run, out) if run.shards > 1 else run_fire(run, out)
        err = result["fire_error_ms"]
        _say(
            f"  p50 {err['p50']} p99 {err['p99']} max {err['max']} ms,"
            f" lost {result['lost']}, late {result['late_over_250ms']}"
        )


def _suite(out: Path, suite: str, title: str, run: Callable[[], object]) -> None:
    """Say the title, run the suite, then say the rows it adds to the summary."""
    _say(title)
    run()
    for figure, value, _target, met in report.suite_rows(out, suite):
        _say(f"  {figure}: {value}" + (f" [{met}]" if met != "-" else ""))


# The suites import late: each pulls in the local stack.
def _cost(out: Path, smoke: bool) -> object:
    from bench.cost import run_cost

    if smoke:
        return run_cost(out, per_outcome=1, lead_s=2.0, settle_s=0.5)
    return run_cost(out)


def _api(out: Path, smoke: bool) -> object:
    from bench.api_latency import run_api

    return run_api(out, per_op=4, levels=(1, 2)) if smoke else run_api(out)


def _coldstart(out: Path, smoke: bool) -> object:
    from bench.coldstart import run_coldstart

    if smoke:
        return run_coldstart(out, runs=2, modules=["tasks.place_bid"], modes=("pyc",))
    return run_coldstart(out)


def _artifact(out: Path, smoke: bool, build: bool) -> None:
    from bench.artifact import run_artifact, smoke_check

    if smoke:
        _say("artifact (smoke: zip sizes of a synthetic tree, no build)")
        smoke_check(out)
        return
    _say("artifact size (make build)")
    result = run_artifact(out, build=build)
    for name, row in result["variants"].items():
        _say(f"  {name}: {row['zipped_bytes'] / 2**20:.2f} MiB zipped")


def run(
    suites: Sequence[str],
    *,
    out: Path,
    smoke: bool,
    fire_runs: Sequence[str] = (),
    build: bool = True,
) -> int:
    steps: dict[str, Callable[[], Any]] = {
        "fire": lambda: _fire(out, smoke, fire_runs),
        "cost": lambda: _suite(
            out,
            "cost",
            "cost per snipe (WON, LOST, CANCELLED, SKIPPED)",
            lambda: _cost(out, smoke),
        ),
        "api": lambda: _suite(
            out, "api", "API latency over local HTTP", lambda: _api(out, smoke)
        ),
        "coldstart": lambda: _suite(
            out,
            "coldstart",
            "cold start (fresh-interpreter imports)",
            lambda: _coldstart(out, smoke),
        ),
        "artifact": lambda: _artifact(out, smoke, build),
    }
    failed: list[str] = []
    started = machine()
    for suite in suites:
        try:
            steps[suite]()
        except Exception:
            traceback.print_exc()
            failed.append(suite)
    write_json(
        out / "run.json",
        {"suites": list(suites), "smoke": smoke, "failed": failed, "start": started},
    )
    summary = report.write_summary(out)
    _say(f"summary: {summary}")
    if failed:
        _say(f"FAILED: {', '.join(failed)}")
        return 1
    return 0

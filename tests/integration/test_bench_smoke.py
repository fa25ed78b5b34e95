"""The benchmark harness works (``make bench-smoke``): every suite runs at a tiny
size and writes its results. No figure is asserted: benchmarks measure, and
this machine's timings say nothing in CI (docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_suite_runs_at_smoke_size(tmp_path: Path) -> None:
    out = tmp_path / "results"
    completed = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]

    run = json.loads((out / "run.json").read_text())
    assert run["failed"] == []
    summary = (out / "summary.md").read_text()
    assert summary.startswith("| Figure | Value | Target |")

    fire = json.loads((out / "fire-smoke-3.json").read_text())
    assert fire["fire_error_ms"]["count"] + fire["lost"] == 3
    assert (out / "fire-smoke-3.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    # The shard path (bench/shard.py): 4 snipes over 2 engine processes.
    sharded = json.loads((out / "fire-smoke-4-2-shards.json").read_text())
    assert sharded["config"]["shards"] == 2
    assert set(fire) <= set(sharded)
    assert {"per_shard"} <= set(sharded) and "per_shard" in sharded["engine_cpu"]
    per_shard = sharded["per_shard"]
    assert [shard["snipes"] for shard in per_shard] == [2, 2]
    assert sharded["fire_error_ms"]["count"] + sharded["lost"] == 4
    assert sum(s["lost"] for s in per_shard) == sharded["lost"]
    assert sum(sharded["snipe_statuses"].values()) == 4
    assert sum(sharded["execution_statuses"].values()) == 4
    assert sharded["schedule"]["users"] == 2
    assert len(sharded["engine_cpu"]["per_shard"]) == 2
    for index in range(2):
        assert (out / f"fire-smoke-4-2-shards.shard{index}.lambda.log").exists()

    cost = json.loads((out / "cost.json").read_text())
    assert set(cost["outcomes"]) == {"WON", "LOST", "CANCELLED", "SKIPPED"}
    for row in cost["outcomes"].values():
        assert row["state_transitions"] >= 1
        assert row["usd_all"] > 0

    api = json.loads((out / "api.json").read_text())
    for level in api["latency_ms"].values():
        assert all(level[op]["count"] > 0 for op in ("create", "list", "get"))

    coldstart = json.loads((out / "coldstart.json").read_text())
    assert coldstart["import"]["pyc"]["boto3"]["runs"] == 2

    artifact = json.loads((out / "artifact.json").read_text())
    assert (
        artifact["variants"]["no_sdk"]["files"]
        < artifact["variants"]["as_built"]["files"]
    )

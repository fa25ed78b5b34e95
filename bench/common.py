"""Shared helpers: results directory, percentiles, machine description, JSON."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
PRICES_PATH = REPO_ROOT / "bench" / "prices.json"


def results_dir(path: Path | None = None) -> Path:
    """The results directory (created)."""
    out = path or RESULTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation between ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    fraction = rank - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * fraction)


@dataclass(frozen=True)
class Summary:
    count: int
    p50: float
    p95: float
    p99: float
    max: float
    min: float
    mean: float

    def as_dict(self, digits: int = 2) -> dict[str, float | int]:
        return {
            "count": self.count,
            "p50": round(self.p50, digits),
            "p95": round(self.p95, digits),
            "p99": round(self.p99, digits),
            "max": round(self.max, digits),
            "min": round(self.min, digits),
            "mean": round(self.mean, digits),
        }


def summarize(values: Iterable[float]) -> Summary:
    data = list(values)
    if not data:
        nan = math.nan
        return Summary(0, nan, nan, nan, nan, nan, nan)
    return Summary(
        count=len(data),
        p50=percentile(data, 50),
        p95=percentile(data, 95),
        p99=percentile(data, 99),
        max=max(data),
        min=min(data),
        mean=sum(data) / len(data),
    )


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return math.nan


def _git(*args: str) -> str:
    try:
        out = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", *args],  # noqa: S607
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in load_average()],
        "git_head": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": dirty,
        "taken_at": utc_stamp(),
    }


class Stopwatch:
    """``with Stopwatch() as sw: ...``; ``sw.seconds`` afterwards."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def fmt_ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1f}"


def ms_summary_line(name: str, summary: Mapping[str, Any]) -> str:
    return (
        f"{name}: n={summary['count']} p50={summary['p50']:.1f} "
        f"p95={summary['p95']:.1f} p99={summary['p99']:.1f} max={summary['max']:.1f}"
    )

"""Cold start: import time of each handler module in a fresh interpreter,
against ``import boto3`` alone.

Every sample is a new ``python`` process that imports one module and prints
the import's duration (``perf_counter`` around ``importlib.import_module``;
interpreter start-up excluded). The environment is a Lambda function's:
``AWS_LAMBDA_FUNCTION_NAME`` set (Powertools then enables the Tracer, as on
AWS with ``Tracing: Active``: aws_xray_sdk is imported), the template's
variables, nothing from this shell. Runs are interleaved (boto3, handler 1,
handler 2, ..., repeated) so that load changes hit every module alike.

Two byte-code modes:

* ``pyc``: every module has a cached ``.pyc`` (a warm-up run fills a private
  ``-X pycache_prefix`` directory first). The ratio to ``boto3`` is judged
  here.
* ``source``: no ``.pyc`` at all (an empty prefix and ``-B``): every module
  is compiled from source at import, which is what the Lambda artifact built
  by ``build.mk`` does today (``pip --no-compile`` and ``__pycache__``
  removed; ``/var/task`` is read-only, so nothing is cached between cold
  starts).

``-X importtime`` (``pyc`` mode) gives the largest imports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, machine, median, write_json
from sandbox.aws import load_template

TARGET_RATIO = 1.5
BASELINE = "boto3"
_SCRIPT = (
    "import importlib, sys, time\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - t)\n"
)
_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def handler_modules() -> dict[str, str]:
    """Module -> logical id of every function's handler in template.yaml."""
    template = load_template()
    modules: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        handler = str(resource.get("Properties", {}).get("Handler", ""))
        module = handler.rpartition(".")[0]
        if module:
            modules.setdefault(module, logical_id)
    return modules


def lambda_environment(function_name: str) -> dict[str, str]:
    """What a function sees on AWS (fake values), and nothing else."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO_ROOT),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "POWERTOOLS_SERVICE_NAME": "snipe",
        "POWERTOOLS_METRICS_NAMESPACE": "Sniper",
        "LOG_LEVEL": "INFO",
        "TABLE_NAME": "SnipesTable",
        "STATE_MACHINE_ARN": (
            "arn:aws:states:us-east-1:123456789012:stateMachine:sniper-snipe"
        ),
        "APP_SECRETS_ARN": (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:sniper/app-secrets"
        ),
        "TOKEN_KMS_KEY_ID": "alias/sniper-ebay-tokens",
        "EMAIL_FROM": "Sniper <sniper@example.com>",
        "EBAY_API_BASE_URL": "https://api.ebay.com",
        "EBAY_AUTH_BASE_URL": "https://auth.ebay.com",
        "EBAY_MARKETPLACE_ID": "EBAY_US",
        "EBAY_RU_NAME": "ru-name",
        "POSTMARK_API_BASE_URL": "https://api.postmarkapp.com",
        "SNIPE_LEAD_SECONDS": "10",
        "SNIPE_SETTLE_SECONDS": "10",
    }


def _python(
    module: str, function_name: str, prefix: Path, *, write_pyc: bool
) -> list[str]:
    args = [sys.executable, "-X", f"pycache_prefix={prefix}"]
    if not write_pyc:
        args.append("-B")
    return [*args, "-c", _SCRIPT, module]


def import_seconds(
    module: str, function_name: str, prefix: Path, *, write_pyc: bool
) -> float:
    out = subprocess.run(  # noqa: S603 - our interpreter, fixed script
        _python(module, function_name, prefix, write_pyc=write_pyc),
        cwd=REPO_ROOT,
        env=lambda_environment(function_name),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def largest_imports(
    module: str, function_name: str, prefix: Path, top: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """Top imports by cumulative time: any module, and top-level packages."""
    out = subprocess.run(  # noqa: S603 - our interpreter
        [
            sys.executable,
            "-X",
            f"pycache_prefix={prefix}",
            "-X",
            "importtime",
            "-c",
            f"import {module}",
        ],
        cwd=REPO_ROOT,
        env=lambda_environment(function_name),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows: list[dict[str, Any]] = []
    for line in out.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            self_us, cumulative_us, indent, name = match.groups()
            rows.append(
                {
                    "module": name,
                    "self_ms": int(self_us) / 1000,
                    "cumulative_ms": int(cumulative_us) / 1000,
                    "depth": len(indent) // 2,
                }
            )
    by_cumulative = sorted(rows, key=lambda r: r["cumulative_ms"], reverse=True)
    packages: dict[str, float] = {}
    for row in rows:
        top_level = row["module"].split(".")[0]
        if row["module"] == top_level:  # the package's own first import
            packages[top_level] = max(
                packages.get(top_level, 0.0), float(row["cumulative_ms"])
            )
    return {
        "cumulative": [
            {k: r[k] for k in ("module", "cumulative_ms", "self_ms")}
            for r in by_cumulative[:top]
        ],
        "top_level_packages": [
            {"package": name, "cumulative_ms": ms}
            for name, ms in sorted(packages.items(), key=lambda kv: -kv[1])[:top]
        ],
    }


def run_coldstart(
    out_dir: Path,
    *,
    runs: int = 11,
    modules: list[str] | None = None,
    modes: tuple[str, ...] = ("pyc", "source"),
) -> dict[str, Any]:
    """``runs`` fresh imports per module and mode; writes ``coldstart.json``."""
    all_modules = handler_modules()
    if modules is not None:
        all_modules = {m: all_modules.get(m, "Function") for m in modules}
    modules_of = all_modules
    targets = [BASELINE, *modules_of]
    function_of = {BASELINE: "Baseline", **modules_of}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as tmp:
        warm = Path(tmp) / "warm"
        for module in targets:  # fill the byte-code cache
            import_seconds(module, function_of[module], warm, write_pyc=True)
        for mode in modes:
            samples: dict[str, list[float]] = {m: [] for m in targets}
            for i in range(runs):
                empty = Path(tmp) / f"empty-{mode}-{i}"
                for module in targets:
                    prefix = warm if mode == "pyc" else empty
                    samples[module].append(
                        import_seconds(
                            module, function_of[module], prefix, write_pyc=False
                        )
                    )
            base = median(samples[BASELINE])
            results[mode] = {
                module: {
                    "median_ms": round(median(values) * 1000, 1),
                    "ratio_to_boto3": round(median(values) / base, 2),
                    "runs": len(values),
                }
                for module, values in samples.items()
            }
        biggest = {
            module: largest_imports(module, function_of[module], warm)
            for module in ("api.app", "tasks.place_bid")
            if module in modules_of
        }
    worst = max(
        (v["ratio_to_boto3"] for m, v in results["pyc"].items() if m != BASELINE),
        default=0.0,
    )
    result = {
        "config": {"runs": runs, "modules": modules_of, "modes": list(modes)},
        "import": results,
        "largest_imports": biggest,
        "target_ratio": TARGET_RATIO,
        "worst_ratio_pyc": worst,
        "target_met": worst <= TARGET_RATIO,
        "machine": machine(),
    }
    write_json(out_dir / "coldstart.json", result)
    return result

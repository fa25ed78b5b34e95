"""Cold start: import time of each handler module in a fresh interpreter,
against ``import boto3`` alone, with the packages a Lambda function has.

Every sample is a new interpreter that imports one module and prints the
import's duration (``perf_counter`` around ``importlib.import_module``;
interpreter start-up excluded). Runs are interleaved (boto3, handler 1,
handler 2, ..., repeated) so that load changes hit every module alike.

**What is importable is the artifact's, not the dev venv's.** The venv holds
dev tools (click, rich, pygments, ...) that change what some libraries import
(``import httpx`` loads its CLI when click is there; on Lambda that import
fails fast). So each sample runs the base interpreter (``sys.base_prefix``)
with ``-I -S``: no site-packages, no ``PYTHON*`` variables, no user site. Its
``sys.path`` starts with, in this order (as ``/var/task`` comes first on
Lambda):

1. the repository (the handlers import only ``api``, ``workflows``, ``tasks``);
2. ``requirements.txt`` installed with ``pip install --target`` for *this*
   host (arm64 wheels, which ``build.mk`` ships, do not load here), without
   boto3, botocore and s3transfer, exactly as ``build.mk`` leaves them out;
3. what the Lambda Python runtime provides: boto3 and its dependencies
   (botocore, s3transfer, jmespath, python-dateutil, six, urllib3), copied
   from the venv (the pinned versions).

Directories 2 and 3 are prepared once per content of ``requirements.txt``
(and SDK version) under ``build/coldstart/<hash>/`` (atomically; a first run
needs PyPI, later runs reuse them). The baseline ``import boto3`` runs in the
same set-up. The environment variables are a Lambda function's
(``AWS_LAMBDA_FUNCTION_NAME``, the template's variables), nothing from this
shell.

Two byte-code modes:

* ``pyc``: every module has a cached ``.pyc`` (a warm-up run fills a private
  ``-X pycache_prefix`` directory first), as in the artifact ``build.mk``
  builds (``compileall``, unchecked hashes) and the runtime's own packages.
  The ratio to ``boto3`` is judged here.
* ``source``: no ``.pyc`` at all (an empty prefix and ``-B``): every module,
  the standard library's too, is compiled from source at import, as an
  artifact without byte code would (``/var/task`` is read-only, so nothing
  is cached between cold starts).

``-X importtime`` (``pyc`` mode, same set-up) gives each handler's largest
imports (``largest_imports`` in ``coldstart.json``); ``python -m
bench.coldstart MODULE`` prints one module's whole ``-X importtime`` output.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, machine, median, write_json
from sandbox.aws import load_template

TARGET_RATIO = 1.5
BASELINE = "boto3"
REQUIREMENTS = REPO_ROOT / "requirements.txt"
ENV_ROOT = REPO_ROOT / "build" / "coldstart"
# build.mk's LAMBDA_RUNTIME_PROVIDED: left out of the artifact.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# What the Lambda Python runtime ships for them to import (distributions).
RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
# argv: module, then the sys.path entries to put first. ``os`` is loaded before
# the clock starts: without ``site`` (``-S``) nothing has loaded it yet, while
# any normal start-up (``site``, the Lambda runtime's bootstrap) has.
_PRELUDE = "import sys, os\nsys.path[0:0] = sys.argv[{first}:]\n"
_SCRIPT = (
    _PRELUDE.format(first=2) + "import importlib, time\n"
    "t = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - t)\n"
)
_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def base_python() -> str:
    """The interpreter the venv was made from (no site-packages with ``-S``)."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    candidate = Path(sys.base_prefix) / "bin" / version
    return str(candidate) if candidate.exists() else sys.executable


def _environment_key() -> str:
    digest = hashlib.sha256()
    digest.update(REQUIREMENTS.read_bytes())
    digest.update(" ".join(RUNTIME_PROVIDED).encode())
    digest.update(sysconfig.get_platform().encode())
    digest.update(sys.version.encode())
    for name in RUNTIME_DISTRIBUTIONS:
        digest.update(f"{name}=={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()[:16]


def _install_requirements(target: Path) -> None:
    """``requirements.txt`` for this host, without what the runtime provides."""
    subprocess.run(  # noqa: S603 - pip of this interpreter, our requirements
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--only-binary=:all:",
            "--target",
            str(target),
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
        timeout=600,
    )
    shutil.rmtree(target / "bin", ignore_errors=True)
    for package in RUNTIME_PROVIDED:
        shutil.rmtree(target / package, ignore_errors=True)
        for info in target.glob(f"{package}-*.dist-info"):
            shutil.rmtree(info)


def _copy_runtime_sdk(target: Path) -> None:
    """boto3 and its dependencies, from this venv (the files of their RECORD)."""
    target.mkdir(parents=True)
    for name in RUNTIME_DISTRIBUTIONS:
        dist = importlib.metadata.distribution(name)
        for file in dist.files or ():
            parts = file.parts
            if ".." in parts or "__pycache__" in parts or file.suffix == ".pyc":
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)


def lambda_paths() -> list[Path]:
    """The ``sys.path`` entries of a sample (prepared and cached on first use)."""
    root = ENV_ROOT / _environment_key()
    if not (root / ".complete").exists():
        ENV_ROOT.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp.", dir=ENV_ROOT))
        try:
            _install_requirements(tmp / "deps")
            _copy_runtime_sdk(tmp / "runtime")
            (tmp / ".complete").touch()
            with contextlib.suppress(OSError):  # a parallel run got there first
                tmp.rename(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return [REPO_ROOT, root / "deps", root / "runtime"]


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


def _interpreter(prefix: Path, *, write_pyc: bool = False) -> list[str]:
    """The base interpreter, isolated (``-I``) and without ``site`` (``-S``)."""
    args = [base_python(), "-I", "-S", "-X", f"pycache_prefix={prefix}"]
    if not write_pyc:
        args.append("-B")
    return args


def import_seconds(
    module: str,
    function_name: str,
    prefix: Path,
    paths: list[Path],
    *,
    write_pyc: bool,
) -> float:
    args = [*_interpreter(prefix, write_pyc=write_pyc), "-c", _SCRIPT, module]
    out = _run_sample([*args, *map(str, paths)], function_name)
    return float(out.stdout.strip().splitlines()[-1])


def importtime_lines(
    module: str, function_name: str, prefix: Path, paths: list[Path]
) -> list[str]:
    """``-X importtime`` output of ``import module`` in a sample's set-up."""
    script = _PRELUDE.format(first=1) + f"import {module}\n"
    args = [*_interpreter(prefix), "-X", "importtime", "-c", script]
    return _run_sample([*args, *map(str, paths)], function_name).stderr.splitlines()


def _run_sample(
    args: list[str], function_name: str
) -> subprocess.CompletedProcess[str]:
    """Run our interpreter on a fixed script in a sample's environment."""
    return subprocess.run(  # noqa: S603 - our interpreter, fixed script
        args,
        cwd=REPO_ROOT,
        env=lambda_environment(function_name),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def largest_imports(
    module: str, function_name: str, prefix: Path, paths: list[Path], top: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """Top imports by cumulative time: any module, and top-level packages."""
    rows: list[dict[str, Any]] = []
    for line in importtime_lines(module, function_name, prefix, paths):
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
    paths = lambda_paths()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as tmp:
        warm = Path(tmp) / "warm"
        for module in targets:  # fill the byte-code cache
            import_seconds(module, function_of[module], warm, paths, write_pyc=True)
        for mode in modes:
            samples: dict[str, list[float]] = {m: [] for m in targets}
            for i in range(runs):
                empty = Path(tmp) / f"empty-{mode}-{i}"
                for module in targets:
                    prefix = warm if mode == "pyc" else empty
                    samples[module].append(
                        import_seconds(
                            module, function_of[module], prefix, paths, write_pyc=False
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
            module: largest_imports(module, function_of[module], warm, paths)
            for module in modules_of
        }
    worst = max(
        (v["ratio_to_boto3"] for m, v in results["pyc"].items() if m != BASELINE),
        default=0.0,
    )
    result = {
        "config": {
            "runs": runs,
            "modules": modules_of,
            "modes": list(modes),
            "interpreter": [base_python(), "-I", "-S"],
            "sys_path_first": [
                str(p.relative_to(REPO_ROOT)) if p != REPO_ROOT else "." for p in paths
            ],
        },
        "import": results,
        "largest_imports": biggest,
        "target_ratio": TARGET_RATIO,
        "worst_ratio_pyc": worst,
        "target_met": worst <= TARGET_RATIO,
        "machine": machine(),
    }
    write_json(out_dir / "coldstart.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.coldstart MODULE``: its ``-X importtime`` lines (stderr
    format, on stdout) in a sample's set-up, with byte code cached."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.coldstart MODULE", file=sys.stderr)
        return 2
    module = args[0]
    function = handler_modules().get(module, "Function")
    paths = lambda_paths()
    with tempfile.TemporaryDirectory(prefix="bench-pyc-") as tmp:
        prefix = Path(tmp)
        import_seconds(module, function, prefix, paths, write_pyc=True)
        print("\n".join(importtime_lines(module, function, prefix, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Artifact size: ``make build`` (``sam build --build-in-source``), then each
``.aws-sam/build/<Function>`` directory zipped (deflate, level 6, as the
deployment package would be), in bytes.

Variants, computed on a copy of one function's directory (every function
ships the same files, see ``build.mk``):

* ``as_built``: what ``make build`` produces today;
* ``no_sdk``: without ``boto3``, ``botocore`` and ``s3transfer`` (and their
  ``.dist-info``): the Lambda Python runtime ships its own boto3/botocore;
* ``as_built_pyc`` / ``no_sdk_pyc``: the same plus byte code compiled ahead of
  time (``python3.11 -m compileall --invalidation-mode unchecked-hash``), so a
  cold start does not compile every module (see ``bench.coldstart``);
* ``no_sdk_sourceless``: ``no_sdk`` with ``.pyc`` files in place of the
  sources (``compileall -b``, ``.py`` removed): tracebacks keep file names and
  line numbers but not the source lines. For comparison only.

``build.mk`` already leaves the SDK out and ships byte code, so ``as_built``
equals ``no_sdk_pyc`` on a current tree. (The Powertools Tracer, which pulled
in ``aws_xray_sdk`` and ``wrapt``, and ``cryptography`` are no longer runtime
dependencies since issue 6.)

The largest top-level entries of the artifact are listed too.

Since issue 14 the dependencies ship once, in the layer ``DependenciesLayer``
(``.aws-sam/build/DependenciesLayer/python``), and each function only our
code: ``layers`` gives the layer's size, ``upload_zipped_bytes`` what a deploy
uploads (every function + every layer), and the variants are computed on a
function's directory merged with the layer's ``python/`` (what ``sys.path``
holds on Lambda).
"""

from __future__ import annotations

import compileall
import io
import os
import py_compile
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, machine, write_json
from sandbox.aws import load_template

TARGET_ZIPPED_BYTES = 10 * 1024 * 1024
SDK_PACKAGES = ("boto3", "botocore", "s3transfer")
# name -> (packages left out, byte code: None | "pyc" | "sourceless")
VARIANTS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "as_built": ((), None),
    "as_built_pyc": ((), "pyc"),
    "no_sdk": (SDK_PACKAGES, None),
    "no_sdk_pyc": (SDK_PACKAGES, "pyc"),
    "no_sdk_sourceless": (SDK_PACKAGES, "sourceless"),
}
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"


def _resource_ids(kind: str) -> list[str]:
    """The template's logical ids of resources of type ``kind``, sorted."""
    resources = load_template()["Resources"]
    return sorted(id_ for id_, res in resources.items() if res.get("Type") == kind)


def function_ids() -> list[str]:
    return _resource_ids("AWS::Serverless::Function")


def layer_ids() -> list[str]:
    return _resource_ids("AWS::Serverless::LayerVersion")


def _built_size(logical_id: str) -> dict[str, Any]:
    """The size row of one built function or layer (an error if not built)."""
    root = BUILD_DIR / logical_id
    if not root.is_dir():
        return {"error": f"{root} not built"}
    return _size_row(root)


def _merged(function_dir: Path, target: Path) -> Path:
    """The function's files plus every layer's ``python/`` (as on Lambda)."""
    shutil.copytree(function_dir, target)
    for layer in layer_ids():
        python = BUILD_DIR / layer / "python"
        if python.is_dir():
            shutil.copytree(python, target, dirs_exist_ok=True)
    return target


def zipped_size(root: Path) -> tuple[int, int, int]:
    """(zipped bytes, unzipped bytes, files) of a directory tree."""
    buffer = io.BytesIO()
    unzipped = 0
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
                unzipped += path.stat().st_size
                files += 1
    return len(buffer.getvalue()), unzipped, files


def _package_of(entry: str) -> str:
    return entry.split("-")[0].lower() if entry.endswith(".dist-info") else entry


def _largest(root: Path, top: int = 10) -> list[dict[str, Any]]:
    sizes: dict[str, int] = {}
    for entry in root.iterdir():
        if entry.is_dir():
            sizes[entry.name] = sum(
                p.stat().st_size for p in entry.rglob("*") if p.is_file()
            )
        elif entry.is_file():
            sizes[entry.name] = entry.stat().st_size
    return [
        {"entry": name, "unzipped_bytes": size}
        for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:top]
    ]


def _variant(
    source: Path, target: Path, *, leave_out: tuple[str, ...], bytecode: str | None
) -> Path:
    shutil.copytree(source, target)
    for entry in list(target.iterdir()):
        if _package_of(entry.name) in leave_out:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    if bytecode is not None:
        compileall.compile_dir(
            str(target),
            quiet=2,
            workers=os.cpu_count() or 1,
            legacy=bytecode == "sourceless",
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    if bytecode == "sourceless":
        for source_file in target.rglob("*.py"):
            if source_file.with_suffix(".pyc").exists():
                source_file.unlink()
        # The legacy .pyc beside each module replaces the shipped __pycache__.
        for cache in sorted(target.rglob("__pycache__"), reverse=True):
            shutil.rmtree(cache)
    return target


def run_artifact(out_dir: Path, *, build: bool = True) -> dict[str, Any]:
    """Build (unless ``build=False``) and measure; writes ``artifact.json``."""
    build_seconds: float | None = None
    if build:
        import time

        started = time.perf_counter()
        subprocess.run(
            ["make", "build"],  # noqa: S607
            cwd=REPO_ROOT,
            check=True,
            timeout=1800,
            capture_output=True,
        )
        build_seconds = round(time.perf_counter() - started, 1)
    functions = {fn: _built_size(fn) for fn in function_ids()}
    layers = {layer: _built_size(layer) for layer in layer_ids()}
    for row in layers.values():
        row.pop("target_met", None)  # the target is per function
    variants: dict[str, Any] = {}
    largest: list[dict[str, Any]] = []
    sample = next(
        (BUILD_DIR / fn for fn in function_ids() if (BUILD_DIR / fn).is_dir()), None
    )
    if sample is not None:
        with tempfile.TemporaryDirectory(prefix="bench-artifact-") as tmp:
            merged = _merged(sample, Path(tmp) / "merged")
            largest = _largest(merged)
            for name, (leave_out, bytecode) in VARIANTS.items():
                path = _variant(
                    merged, Path(tmp) / name, leave_out=leave_out, bytecode=bytecode
                )
                variants[name] = _size_row(path)
                shutil.rmtree(path)
    sizes = [f["zipped_bytes"] for f in functions.values() if "zipped_bytes" in f]
    result = {
        "build_seconds": build_seconds,
        "sample_function": sample.name if sample else None,
        "functions": functions,
        "layers": layers,
        "upload_zipped_bytes": sum(sizes)
        + sum(layer.get("zipped_bytes", 0) for layer in layers.values()),
        "variants": variants,
        "largest_entries": largest,
        "target_zipped_bytes": TARGET_ZIPPED_BYTES,
        "target_met": bool(sizes) and max(sizes) <= TARGET_ZIPPED_BYTES,
        "machine": machine(),
    }
    write_json(out_dir / "artifact.json", result)
    return result


def smoke_check(out_dir: Path) -> dict[str, Any]:
    """The measuring half on a synthetic tree (no build): CI smoke only."""
    with tempfile.TemporaryDirectory(prefix="bench-artifact-smoke-") as tmp:
        root = Path(tmp) / "Function"
        for package in ("api", "botocore", "wrapt"):
            (root / package).mkdir(parents=True)
            (root / package / "__init__.py").write_text("VALUE = 1\n" * 100)
        (root / "botocore-1.0.dist-info").mkdir()
        variants: dict[str, Any] = {}
        for name, (leave_out, bytecode) in VARIANTS.items():
            path = _variant(
                root, Path(tmp) / name, leave_out=leave_out, bytecode=bytecode
            )
            zipped, _, files = zipped_size(path)
            variants[name] = {"zipped_bytes": zipped, "files": files}
    result = {"smoke": True, "variants": variants, "machine": machine()}
    write_json(out_dir / "artifact.json", result)
    return result


def _size_row(root: Path) -> dict[str, Any]:
    zipped, unzipped, files = zipped_size(root)
    return {
        "zipped_bytes": zipped,
        "unzipped_bytes": unzipped,
        "files": files,
        "target_met": zipped <= TARGET_ZIPPED_BYTES,
    }

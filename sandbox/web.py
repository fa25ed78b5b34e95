"""The web app (``web/``, Next.js) beside the local stack.

``python -m sandbox dev`` serves it on ``http://127.0.0.1:$SANDBOX_WEB_PORT``
(default 3000), built for production (``next build`` + ``next start``): pages
load at once, as a user will see them, and the browser tests run against the
same build. On first run it installs the packages (``npm ci``); it builds
again when a source file is newer than the last build. ``SANDBOX_WEB=0`` runs
the stack without it.

The app reads its configuration at request time (``web/src/config.ts``), so one
build serves any API port: ``SNIPE_API_URL`` and ``SNIPE_AUTH_MODE=dev`` (sign
in through the local API's ``POST /dev/token``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess  # nosec B404 # npm and next, with fixed argument lists
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

from sandbox.processes import stop_process

REPO = Path(__file__).resolve().parent.parent
WEB_DIR = REPO / "web"
BUILD_ID = WEB_DIR / ".next" / "BUILD_ID"
SOURCES = ("src", "public", "next.config.ts", "package-lock.json", "tsconfig.json")
START_TIMEOUT_S = 60.0


class WebAppError(RuntimeError):
    """npm or Next.js failed, or the app did not answer in time."""


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise WebAppError("npm is not installed (Node 20 is needed for the web app)")
    return npm


def _run(args: list[str], what: str) -> None:
    print(f"web: {what} ...", flush=True)
    # Fixed argument lists, no shell.
    done = subprocess.run(args, cwd=WEB_DIR, check=False)  # noqa: S603  # nosec B603
    if done.returncode != 0:
        raise WebAppError(f"{what} failed (exit {done.returncode})")


def _newest_source_mtime() -> float:
    def files() -> Iterator[Path]:
        for name in SOURCES:
            path = WEB_DIR / name
            if path.is_dir():
                yield from (p for p in path.rglob("*") if p.is_file())
            elif path.exists():
                yield path

    return max((p.stat().st_mtime for p in files()), default=0.0)


def ensure_built() -> None:
    """``npm ci`` when the packages are missing or stale; ``next build`` when
    the sources changed since the last build."""
    installed = WEB_DIR / "node_modules" / ".package-lock.json"
    lockfile = WEB_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        _run([_npm(), "ci", "--no-audit", "--no-fund"], "installing packages (npm ci)")
    if not BUILD_ID.exists() or BUILD_ID.stat().st_mtime < _newest_source_mtime():
        _run([_npm(), "run", "build"], "building the app (next build)")


class WebApp:
    """``next start`` on 127.0.0.1:``port`` in its own process group."""

    def __init__(self, port: int, environment: Mapping[str, str]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._environment = dict(environment)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> WebApp:
        ensure_built()
        env = {**os.environ, **self._environment, "NEXT_TELEMETRY_DISABLED": "1"}
        next_bin = WEB_DIR / "node_modules" / ".bin" / "next"
        self._process = subprocess.Popen(  # noqa: S603  # nosec B603
            [str(next_bin), "start", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=WEB_DIR,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise WebAppError(f"next start exited ({self._process.returncode})")
            try:
                if httpx.get(f"{self.url}/signin", timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise WebAppError(f"the web app did not answer on {self.url}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process, signal.SIGTERM, 10, group=True)

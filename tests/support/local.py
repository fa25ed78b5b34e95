"""Shared pieces for tests of the local stack (`make dev`, `make dev-sfn-local`)
and of the engines that run the state machine."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox import engine

PAST = "2020-01-01T00:00:00Z"

#: Stand-ins for the four task functions: the happy path, a snipe that wins.
HAPPY_TASKS: Mapping[str, engine.Handler] = {
    "RefreshTokenFunction": lambda event, context: {"expires_at": PAST},
    "PlaceBidFunction": lambda event, context: {
        "status": "BID_PLACED",
        "settle_at": PAST,
    },
    "CheckResultFunction": lambda event, context: {"status": "WON"},
    "NotifyFunction": lambda event, context: {"status": "WON"},
}


def stack_env(base: Mapping[str, str], workdir: Path, **extra: str) -> dict[str, str]:
    """``base`` plus what starts a local stack in ``workdir``: its state file
    (``stack.json``), its signing key and every service on a free port."""
    return {
        **base,
        "SANDBOX_STATE_FILE": str(workdir / "stack.json"),
        "SANDBOX_KEY_FILE": str(workdir / "signing.key"),
        "SANDBOX_API_PORT": "0",
        "SANDBOX_EBAY_PORT": "0",
        "SANDBOX_POSTMARK_PORT": "0",
        "SANDBOX_MOTO_PORT": "0",
        **extra,
    }


def run_captured(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end, its output captured as text; no check."""
    return subprocess.run(  # noqa: S603 - our own commands
        list(command),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_fields(value: Any) -> set[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {f for v in value.values() for f in json_fields(v)}
    if isinstance(value, list):
        return {f for v in value for f in json_fields(v)}
    return set()

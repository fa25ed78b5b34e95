"""``python -m sandbox dev-sfn-local`` (``make dev-sfn-local``).

``make dev`` with Step Functions Local in Docker running the state machine.
Checks for a Docker daemon (and Compose) first and exits 2 with a clear message
when there is none, before anything is started.
"""

from __future__ import annotations

import sys
from typing import Final

from sandbox.sfn_local.asl import UnsupportedDefinition
from sandbox.sfn_local.docker import DockerUnavailable, compose_command, daemon_status
from sandbox.sfn_local.engine import SfnLocalEngine

__all__ = ["main"]

PROGRAM: Final = "make dev-sfn-local"
WITHOUT_DOCKER: Final = (
    "Step Functions Local runs in a container: start Docker (or point DOCKER_HOST "
    "at a daemon) and try again, or run `make dev`, which needs no Docker (moto "
    "runs the state machine)."
)


def _fail(message: str) -> int:
    print(f"{PROGRAM}: {message}\n{WITHOUT_DOCKER}", file=sys.stderr, flush=True)
    return 2


def main() -> int:
    ok, detail = daemon_status()
    if not ok:
        return _fail(f"no Docker daemon answers ({detail}).")
    try:
        compose = compose_command()
    except DockerUnavailable as exc:
        return _fail(f"{exc}.")

    from sandbox import dev  # after the checks: it imports the whole stack

    engine = SfnLocalEngine.from_env()
    engine.compose = tuple(compose)  # checked above: provision need not again
    engine.report = lambda line: print(line, flush=True)
    try:
        return dev.main(sfn_local=engine)
    except DockerUnavailable as exc:
        return _fail(f"{exc}.")
    except UnsupportedDefinition as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr, flush=True)
        return 2

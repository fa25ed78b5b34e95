"""The Docker side of the Step Functions Local engine, through the docker CLI.

Only the ``docker`` client is used (``docker info``, ``docker compose``,
``docker network inspect``): nothing here talks to the daemon's socket itself.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess  # nosec B404 # the docker CLI, with fixed argument lists
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import boto3
from botocore.config import Config

__all__ = [
    "COMPOSE_FILE",
    "DockerUnavailable",
    "SfnLocalContainer",
    "compose_command",
    "daemon_status",
    "host_gateway_address",
    "require_docker",
]

HERE: Final = Path(__file__).resolve().parent
COMPOSE_FILE: Final = HERE / "compose.yaml"
ENV_FILE: Final = HERE / "sfn-local.env"
_CLI_TIMEOUT_S: Final = 20.0


class DockerUnavailable(RuntimeError):
    """No Docker daemon (or no Compose) to run Step Functions Local with."""


def _docker() -> str | None:
    return shutil.which("docker")


def _run(
    args: list[str], timeout: float = _CLI_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # nosec B603 # fixed docker CLI arguments
        args, capture_output=True, text=True, timeout=timeout, check=False
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def daemon_status(timeout: float = _CLI_TIMEOUT_S) -> tuple[bool, str]:
    """Whether a Docker daemon answers the docker client, and what it said.

    ``(True, "Docker 27.1.1")`` or ``(False, <why not>)``; the client's own
    message when it cannot connect (``Cannot connect to the Docker daemon at
    unix:///var/run/docker.sock. Is the docker daemon running?``).
    """
    docker = _docker()
    if docker is None:
        return False, "no docker client on PATH"
    try:
        result = _run([docker, "info", "--format", "{{.ServerVersion}}"], timeout)
    except subprocess.TimeoutExpired:
        return False, f"`docker info` did not answer within {timeout:.0f} s"
    version = result.stdout.strip()
    if result.returncode != 0 or not version or version == "<no value>":
        return False, _first_line(result.stderr or result.stdout)
    return True, f"Docker {version}"


def compose_command() -> list[str]:
    """``docker compose`` (Compose v2), else ``docker-compose``.

    Raises:
        DockerUnavailable: neither is installed.
    """
    docker = _docker()
    if docker is not None and _run([docker, "compose", "version"]).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy is not None:
        return [legacy]
    raise DockerUnavailable(
        "Docker Compose is not installed (neither `docker compose` nor "
        "`docker-compose` works)"
    )


def require_docker() -> list[str]:
    """The compose command, once a daemon answers.

    Raises:
        DockerUnavailable: no daemon, or no Compose.
    """
    ok, detail = daemon_status()
    if not ok:
        raise DockerUnavailable(f"no Docker daemon answers: {detail}")
    return compose_command()


def _bindable(host: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
    except OSError:
        return False
    return True


def host_gateway_address() -> str:
    """Where to listen so that a container reaches us as ``host-gateway``.

    ``SANDBOX_LAMBDA_BIND`` if set. Otherwise the gateway of Docker's default
    bridge network (what ``host-gateway`` resolves to on Linux) when that
    address is on this host; else 127.0.0.1, which is what Docker Desktop
    forwards ``host.docker.internal`` to.
    """
    configured = os.environ.get("SANDBOX_LAMBDA_BIND")
    if configured:
        return configured
    docker = _docker()
    if docker is not None:
        result = _run(
            [
                docker,
                "network",
                "inspect",
                "bridge",
                "--format",
                "{{range .IPAM.Config}}{{.Gateway}} {{end}}",
            ]
        )
        for candidate in result.stdout.split() if result.returncode == 0 else []:
            try:
                address = ipaddress.ip_address(candidate)
            except ValueError:
                continue
            if address.version == 4 and address.is_private and _bindable(candidate):
                return candidate
    return "127.0.0.1"


@dataclass
class SfnLocalContainer:
    """The compose service: up (recreated, so no state machine is left over),
    ready (answers ``ListStateMachines``), down."""

    port: int
    lambda_port: int
    project: str = ""
    compose: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.project = self.project or f"snipe-sfn-local-{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _environment(self) -> Mapping[str, str]:
        return {
            **os.environ,
            "SANDBOX_SFN_LOCAL_PORT": str(self.port),
            "SANDBOX_LAMBDA_PORT": str(self.lambda_port),
        }

    def _compose(self, *args: str, timeout: float) -> None:
        command = [
            *(self.compose or compose_command()),
            "-f",
            str(COMPOSE_FILE),
            "-p",
            self.project,
            *args,
        ]
        result = subprocess.run(  # noqa: S603  # nosec B603 # fixed compose arguments
            command,
            env=dict(self._environment()),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise DockerUnavailable(
                f"`docker compose {' '.join(args)}` failed: "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )

    def up(self, timeout: float = 600.0) -> None:
        """Start (pulling the pinned image the first time)."""
        self._compose("up", "-d", "--force-recreate", timeout=timeout)

    def wait_ready(self, timeout: float = 90.0) -> None:
        client = boto3.client(
            "stepfunctions",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106  # nosec B106 # local only
            config=Config(
                retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5
            ),
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.list_state_machines(maxResults=1)
            except Exception as exc:  # not up yet: connection refused or reset
                if time.monotonic() > deadline:
                    raise DockerUnavailable(
                        f"Step Functions Local did not answer on {self.url} within "
                        f"{timeout:.0f} s: {exc}"
                    ) from exc
                time.sleep(0.5)
            else:
                return

    def down(self, timeout: float = 60.0) -> None:
        self._compose("down", "--remove-orphans", "--timeout", "5", timeout=timeout)

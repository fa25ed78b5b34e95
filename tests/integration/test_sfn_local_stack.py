"""``make demo`` against ``make dev-sfn-local``: Step Functions Local in Docker
runs the real (adapted) state machine and our task Lambdas answer it through
the Lambda gateway.

Needs a Docker daemon (and Compose, and the pinned image or a registry to pull
it from). Where no daemon answers the docker client, the test is skipped with
that reason; it never passes without running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sandbox.processes import stop_process
from sandbox.sfn_local.docker import daemon_status
from tests.support.local import run_captured, stack_env

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 600  # the first run pulls the image
MAKE = shutil.which("make") or "/usr/bin/make"

pytestmark = pytest.mark.docker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sfn(url: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def sfn_local_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    available, detail = daemon_status()
    if not available:
        pytest.skip(f"no Docker daemon ({detail})")
    workdir = tmp_path_factory.mktemp("sfn-local")
    state_file = workdir / "stack.json"
    env = stack_env(
        os.environ,
        workdir,
        SANDBOX_LAMBDA_PORT="0",
        SANDBOX_SFN_LOCAL_PORT=str(_free_port()),
    )
    log = (workdir / "dev.log").open("w+")
    process = subprocess.Popen(  # noqa: S603 - our own Makefile
        [MAKE, "-s", "dev-sfn-local"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C goes to make and the stack alike
    )
    started = time.monotonic()
    try:
        while not state_file.exists():
            if (
                process.poll() is not None
                or time.monotonic() - started > STARTUP_TIMEOUT_S
            ):
                log.seek(0)
                pytest.fail(f"make dev-sfn-local did not come up:\n{log.read()}")
            time.sleep(0.5)
        yield {"state": json.loads(state_file.read_text()), "env": env, "log": log}
    finally:
        stop_process(process, signal.SIGINT, 90, group=True)
        log.close()


@pytest.mark.timeout(STARTUP_TIMEOUT_S + 300)
def test_make_demo_wins_one_and_loses_one_on_step_functions_local(
    sfn_local_stack: dict[str, Any],
) -> None:
    state = sfn_local_stack["state"]
    assert state["stepfunctions_url"] != state["moto_url"]
    assert state["stepfunctions_url"].startswith("http://127.0.0.1:")

    demo = run_captured([MAKE, "-s", "demo"], REPO, sfn_local_stack["env"], timeout=240)

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "-> WON (expected WON) OK" in demo.stdout
    assert "-> LOST (expected LOST) OK" in demo.stdout
    # The executions ran in Step Functions Local, none in moto.
    machine = state["state_machine_arn"]
    executions = _sfn(state["stepfunctions_url"]).list_executions(
        stateMachineArn=machine
    )["executions"]
    assert len([e for e in executions if e["status"] == "SUCCEEDED"]) >= 2
    assert _sfn(state["moto_url"]).list_state_machines()["stateMachines"] == []
    # and the adapted definition is the one there
    definition = _sfn(state["stepfunctions_url"]).describe_state_machine(
        stateMachineArn=machine
    )["definition"]
    assert "MaxDelaySeconds" not in definition

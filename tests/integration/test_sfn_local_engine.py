"""The Step Functions Local engine's wiring, on this machine (no Docker daemon).

The container is replaced by a stand-in whose "Step Functions Local" is the
moto server itself, so everything around it runs for real: the daemon check's
place, the Lambda gateway, the compose ports, the adapted definition going to
the Step Functions endpoint, boto3's ``AWS_ENDPOINT_URL_SFN``, cleanup. The
container itself runs in ``test_sfn_local_stack.py`` (marked ``docker``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import boto3
import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via cfn-lint) has no stubs here

from sandbox import aws, engine
from sandbox.sfn_local import docker
from sandbox.sfn_local import engine as sfn_engine
from sandbox.sfn_local.asl import adapt_for_sfn_local
from sandbox.sfn_local.docker import COMPOSE_FILE, ENV_FILE
from tests.support.local import HAPPY_TASKS, PAST, json_fields, run_captured

REPO = Path(__file__).resolve().parents[2]
SUBSTITUTED = {"MaxDelaySeconds", "JitterStrategy", "ErrorPath", "CausePath"}


class FakeContainer:
    """Stands for the compose service; its Step Functions is the moto server."""

    instances: ClassVar[list[FakeContainer]] = []

    def __init__(
        self, *, port: int, lambda_port: int, compose: tuple[str, ...]
    ) -> None:
        self.port, self.lambda_port, self.compose = port, lambda_port, compose
        self.calls: list[str] = []
        self.url = os.environ["FAKE_SFN_LOCAL_URL"]
        FakeContainer.instances.append(self)

    def up(self) -> None:
        self.calls.append("up")

    def wait_ready(self) -> None:
        self.calls.append("wait_ready")

    def down(self) -> None:
        self.calls.append("down")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[aws.MotoServer]:
    with aws.MotoServer() as running:
        yield running


@pytest.fixture
def server(moto_server: aws.MotoServer) -> aws.MotoServer:
    moto_server.reset()
    return moto_server


def test_engine_provisions_through_the_gateway_and_cleans_up(
    server: aws.MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sfn_engine, "require_docker", lambda: ["docker", "compose"])
    monkeypatch.setattr(sfn_engine, "SfnLocalContainer", FakeContainer)
    monkeypatch.setenv("FAKE_SFN_LOCAL_URL", server.url)
    reported: list[str] = []
    sfn = sfn_engine.SfnLocalEngine(
        sfn_port=18083, lambda_port=0, lambda_bind="127.0.0.1"
    )
    sfn.report = reported.append

    with contextlib.ExitStack() as stack:
        local = sfn.provision(server, stack)
        (container,) = FakeContainer.instances[-1:]
        gateway_port = int(sfn.gateway_url.rsplit(":", 1)[1])

        # the container was started with the gateway's port, and was waited for
        assert container.calls == ["up", "wait_ready"]
        assert container.lambda_port == gateway_port
        assert container.port == 18083
        assert container.compose == ("docker", "compose")
        # Step Functions is the container's; the rest stays on moto
        assert local.stepfunctions_url == server.url
        assert local.environment()["AWS_ENDPOINT_URL_SFN"] == server.url
        assert local.environment()["AWS_ENDPOINT_URL"] == server.url
        # the state machine there is the adapted one, and it was said so
        definition = local.stepfunctions.describe_state_machine(
            stateMachineArn=local.state_machine_arn
        )["definition"]
        assert not json_fields(json.loads(definition)) & SUBSTITUTED
        assert adapt_for_sfn_local(definition).changes == ()  # nothing left to do
        asl = (REPO / "statemachines" / "snipe.asl.json").read_text(encoding="utf-8")
        assert sfn.changes == adapt_for_sfn_local(asl).changes
        assert (not sfn.changes) == (not reported)
        # a task function answers through the gateway
        invoked = boto3.client(
            "lambda",
            endpoint_url=sfn.gateway_url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        function_arn = local.lambda_.get_function(FunctionName="NotifyFunction")
        with engine.registered_handlers(
            {"NotifyFunction": lambda event, context: {"status": "WON"}}
        ):
            response = invoked.invoke(
                FunctionName=function_arn["Configuration"]["FunctionArn"], Payload=b"{}"
            )
        assert json.loads(response["Payload"].read()) == {"status": "WON"}

    assert container.calls == ["up", "wait_ready", "down"]
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{sfn.gateway_url}/2015-03-31/functions/NotifyFunction/invocations")


class BidRejected(Exception):
    """Named like our permanent bid error: caught, not retried."""


def _bid_rejected(event: Any, context: Any) -> Any:
    raise BidRejected("BID_TOO_LOW: eBay refused the bid")


REJECTED: dict[str, engine.Handler] = {
    **HAPPY_TASKS,
    "PlaceBidFunction": _bid_rejected,
    "NotifyFunction": lambda event, context: {"status": "FAILED"},
}


def _run(local: aws.LocalAws, machine_arn: str, name: str) -> tuple[str, list[str]]:
    arn = local.stepfunctions.start_execution(
        stateMachineArn=machine_arn,
        name=name,
        input=json.dumps({"snipe_id": name, "plan": {"wake_at": PAST}}),
    )["executionArn"]
    status = local.wait_for_execution(arn, timeout=30)["status"]
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in local.execution_history(arn)
        if "stateEnteredEventDetails" in event
    ]
    return status, entered


@pytest.mark.parametrize("handlers", [HAPPY_TASKS, REJECTED], ids=["happy", "rejected"])
def test_the_adapted_definition_behaves_as_the_original(
    server: aws.MotoServer, handlers: dict[str, engine.Handler]
) -> None:
    """An ASL interpreter takes the same path through what Step Functions Local
    would get as through the AWS definition (whatever that is today)."""
    local = server.provision()
    original = local.stepfunctions.describe_state_machine(
        stateMachineArn=local.state_machine_arn
    )
    adapted_arn = local.stepfunctions.create_state_machine(
        name="Adapted",
        definition=adapt_for_sfn_local(original["definition"]).definition,
        roleArn=original["roleArn"],
    )["stateMachineArn"]

    with engine.registered_handlers(handlers):
        on_aws = _run(local, local.state_machine_arn, "original")
        on_sfn_local = _run(local, adapted_arn, "adapted")

    assert on_sfn_local == on_aws
    assert len(on_aws[1]) > 2  # it went somewhere


def test_without_a_daemon_dev_sfn_local_exits_2_before_starting_anything(
    tmp_path: Path,
) -> None:
    state_file = tmp_path / "stack.json"
    env = {
        **os.environ,
        "DOCKER_HOST": f"unix://{tmp_path}/no-such-docker.sock",
        "SANDBOX_STATE_FILE": str(state_file),
    }

    result = run_captured(
        [sys.executable, "-m", "sandbox", "dev-sfn-local"], REPO, env, timeout=60
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "make dev-sfn-local: no Docker daemon answers" in result.stderr
    # the docker client's own reason, naming the socket it tried
    reason = "no-such-docker.sock" if shutil.which("docker") else "no docker client"
    assert reason in result.stderr
    assert "make dev" in result.stderr
    assert result.stdout == ""
    assert not state_file.exists()


def test_daemon_status_reports_the_clients_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")

    ok, detail = docker.daemon_status()

    assert ok is False
    assert detail  # the docker client's own words, or that there is no client


# --------------------------------------------------------------------------- #
# The compose file and its env file
# --------------------------------------------------------------------------- #
def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")))


def _env_file() -> dict[str, str]:
    lines = ENV_FILE.read_text(encoding="utf-8").splitlines()
    return dict(
        line.split("=", 1)
        for line in lines
        if line.strip() and not line.startswith("#")
    )


def test_compose_runs_a_pinned_step_functions_local_on_loopback() -> None:
    (service,) = _compose()["services"].values()

    image, _, tag = service["image"].partition(":")
    assert image == "amazon/aws-stepfunctions-local"
    assert tag and tag != "latest" and tag[0].isdigit()
    assert service["ports"] == ["127.0.0.1:${SANDBOX_SFN_LOCAL_PORT:-8083}:8083"]
    assert "host.docker.internal:host-gateway" in service["extra_hosts"]
    assert (COMPOSE_FILE.parent / service["env_file"]) == ENV_FILE


def test_lambda_endpoint_is_the_gateway_on_the_host() -> None:
    (service,) = _compose()["services"].values()

    endpoint = service["environment"]["LAMBDA_ENDPOINT"]

    assert endpoint == (
        "http://host.docker.internal:${SANDBOX_LAMBDA_PORT:-"
        f"{sfn_engine.DEFAULT_LAMBDA_PORT}}}"
    )
    # the variables are the ones the engine hands to compose
    container = docker.SfnLocalContainer(port=18083, lambda_port=18004)
    environment = container._environment()
    assert environment["SANDBOX_LAMBDA_PORT"] == "18004"
    assert environment["SANDBOX_SFN_LOCAL_PORT"] == "18083"


def test_env_file_matches_our_account_region_and_real_time_waits() -> None:
    options = _env_file()

    assert options["AWS_ACCOUNT_ID"] == aws.ACCOUNT_ID
    assert options["AWS_DEFAULT_REGION"] == "us-east-1"
    assert options["WAIT_TIME_SCALE"] == "1"
    assert set(options) <= {
        "AWS_ACCOUNT_ID",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "WAIT_TIME_SCALE",
    }

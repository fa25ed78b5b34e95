"""sandbox.engine: our handlers, error names and precise waits in moto's ASL engine.

Every test runs tiny ad-hoc state machines against in-process moto with test
handlers registered in ``engine.HANDLERS``.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import moto
import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws

from sandbox import aws, engine

REGION = "us-east-1"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


class FlakyUpstream(Exception):
    """A transient error: retried by the test state machines."""


class PermanentFailure(Exception):
    """A permanent error: caught by the test state machines."""


def echo_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolved from its Handler string (``tests.integration.test_engine...``)."""
    return {"echo": event, "function": context.function_name}


# --------------------------------------------------------------------------- #
# Fixture: in-process moto with the engine installed
# --------------------------------------------------------------------------- #
@dataclass
class Moto:
    local: aws.LocalAws
    role_arn: str

    def function(self, name: str, handler: str = "unused.handler") -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("README.txt", "in-process")
        return self.local.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self.role_arn,
            Handler=handler,
            Code={"ZipFile": buffer.getvalue()},
            Timeout=30,
        )["FunctionArn"]

    def machine(self, name: str, definition: dict[str, Any]) -> str:
        return self.local.stepfunctions.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=self.role_arn
        )["stateMachineArn"]

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        return self.local.stepfunctions.start_execution(
            stateMachineArn=machine_arn, name=name, input=json.dumps(payload)
        )["executionArn"]

    def run(
        self, definition: dict[str, Any], payload: dict[str, Any], timeout: float = 20
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        arn = self.start(self.machine("m", definition), "e", payload)
        described = self.local.wait_for_execution(arn, timeout)
        return described, self.local.execution_history(arn)


@pytest.fixture
def sfn() -> Iterator[Moto]:
    env = {
        "TZ": "UTC",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": "",
        **aws.FAKE_CREDENTIALS,
    }
    with aws.environ(env):
        time.tzset()
        installed_here = not engine.is_installed()
        with mock_aws(config=aws.MOTO_CONFIG):
            engine.install()
            try:
                local = aws.LocalAws(REGION, "", "", {})
                role_arn = local.client("iam").create_role(
                    RoleName="test-role", AssumeRolePolicyDocument="{}"
                )["Role"]["Arn"]
                yield Moto(local, role_arn)
            finally:
                if installed_here:
                    engine.uninstall()
    time.tzset()


def _z(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------- #
# Error names
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("style", "failed_event", "details_key"),
    [
        # The SDK integration: the error surfaces as TaskFailed.
        ("lambda:invoke", "TaskFailed", "taskFailedEventDetails"),
        # A function ARN as Resource (what snipe.asl.json uses): moto, like AWS,
        # records LambdaFunctionFailed instead.
        ("function-arn", "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails"),
    ],
)
def test_custom_exception_class_name_drives_retry_and_catch(
    sfn: Moto, style: str, failed_event: str, details_key: str
) -> None:
    # Given a task that fails transiently once, then permanently
    attempts: list[int] = []

    def flaky_then_fatal(event: dict[str, Any], context: Any) -> dict[str, Any]:
        attempts.append(event["attempt"])
        if len(attempts) == 1:
            raise FlakyUpstream("try again")
        raise PermanentFailure("give up")

    arn = sfn.function("flaky")
    parameters: dict[str, Any] = {"attempt.$": "$$.State.RetryCount"}
    task: dict[str, Any] = (
        {
            "Resource": LAMBDA_INVOKE,
            "Parameters": {"FunctionName": arn, "Payload": parameters},
        }
        if style == "lambda:invoke"
        else {"Resource": arn, "Parameters": parameters}
    )
    definition = {
        "StartAt": "Task",
        "States": {
            "Task": {
                "Type": "Task",
                **task,
                "Retry": [
                    {
                        "ErrorEquals": ["FlakyUpstream"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 1.0,
                    }
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["PermanentFailure"],
                        "ResultPath": "$.failure",
                        "Next": "Caught",
                    },
                    {"ErrorEquals": ["States.ALL"], "Next": "Wrong catcher"},
                ],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
            "Wrong catcher": {"Type": "Fail", "Error": "WrongCatcher"},
        },
    }

    # When it runs
    with engine.registered_handlers({"flaky": flaky_then_fatal}):
        described, history = sfn.run(definition, {})

    # Then Retry matched the first class name and Catch the second one
    assert described["status"] == "SUCCEEDED", described
    errors = [e[details_key]["error"] for e in history if e["type"] == failed_event]
    assert errors == ["FlakyUpstream", "PermanentFailure"]
    assert attempts == [0, 1]  # $$.State.RetryCount counts the retries
    failure = json.loads(described["output"])["failure"]
    assert failure["Error"] == "PermanentFailure"
    cause = json.loads(failure["Cause"])
    assert cause["errorType"] == "PermanentFailure"
    assert cause["errorMessage"] == "give up"


def test_handler_resolved_from_handler_string_and_errors_shaped_like_lambda(
    sfn: Moto,
) -> None:
    # Given one function resolved lazily from its Handler string, one whose
    # module does not exist, and one registered handler that raises
    sfn.function("echo", handler=f"{__name__}.echo_handler")
    sfn.function("missing", handler="no_such_package.module.handler")
    sfn.function("raises")

    def raises(event: dict[str, Any], context: Any) -> None:
        raise PermanentFailure("boom")

    # When they are invoked through the Lambda API
    def invoke(name: str) -> tuple[str | None, dict[str, Any]]:
        response = sfn.local.lambda_.invoke(
            FunctionName=name, Payload=json.dumps({"x": 1}).encode()
        )
        return response.get("FunctionError"), json.loads(response["Payload"].read())

    with engine.registered_handlers({"raises": raises}):
        ok = invoke("echo")
        missing = invoke("missing")
        failed = invoke("raises")

    # Then the result and the errors have the Lambda runtime's shapes
    assert ok == (None, {"echo": {"x": 1}, "function": "echo"})
    assert missing[0] == "Unhandled"
    assert missing[1]["errorType"] == "Runtime.ImportModuleError"
    assert failed[0] == "Unhandled"
    assert failed[1]["errorType"] == "PermanentFailure"
    assert failed[1]["errorMessage"] == "boom"
    assert "_invoke" not in "".join(failed[1]["stackTrace"])


def test_context_is_good_enough_for_powertools(
    sfn: Moto, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a handler decorated like ours
    logger = Logger(service="engine-test")

    @logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.info("handled")
        return {"remaining_ms": context.get_remaining_time_in_millis()}

    sfn.function("powertools")

    # When it is invoked
    with engine.registered_handlers({"powertools": handler}):
        response = sfn.local.lambda_.invoke(
            FunctionName="powertools", Payload=b'{"snipe_id": "s-1"}'
        )

    # Then the context fields reached the structured log
    assert "FunctionError" not in response
    assert 0 < json.loads(response["Payload"].read())["remaining_ms"] <= 30_000
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["function_name"] == "powertools"
    assert line["correlation_id"] == "s-1"
    assert line["function_request_id"]


def test_handlers_run_concurrently(sfn: Moto) -> None:
    # Given a task that sleeps (as the bid task does before firing)
    arn = sfn.function("sleeper")
    machine = sfn.machine(
        "sleepy",
        {
            "StartAt": "Sleep",
            "States": {"Sleep": {"Type": "Task", "Resource": arn, "End": True}},
        },
    )
    running = 0
    peak = 0
    lock = threading.Lock()

    def sleeper(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(1.0)
        with lock:
            running -= 1
        return {}

    # When five executions start at once
    started = time.monotonic()
    with engine.registered_handlers({"sleeper": sleeper}):
        arns = [sfn.start(machine, f"e{i}", {}) for i in range(5)]
        statuses = [sfn.local.wait_for_execution(a, 20)["status"] for a in arns]
    elapsed = time.monotonic() - started

    # Then the handlers overlapped: no lock is held while one runs
    assert statuses == ["SUCCEEDED"] * 5
    assert peak == 5
    assert elapsed < 3.5


# --------------------------------------------------------------------------- #
# Wait
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("tz", ["UTC", "JST-9"])  # JST-9: POSIX TZ, UTC+9
def test_wait_timestamp_path_fires_on_time(sfn: Moto, tz: str) -> None:
    # Given a Wait on a ...Z timestamp 1.5 s ahead (with milliseconds)
    fired: list[float] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        fired.append(time.time())
        return {}

    arn = sfn.function("record")
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "TimestampPath": "$.at", "Next": "Fire"},
            "Fire": {"Type": "Task", "Resource": arn, "End": True},
        },
    }
    target = datetime.now(UTC) + timedelta(seconds=1.5)

    # When it runs (also in a non-UTC local time zone)
    with aws.environ({"TZ": tz}), engine.registered_handlers({"record": record}):
        time.tzset()
        try:
            described, _ = sfn.run(definition, {"at": _z(target)})
        finally:
            time.tzset()

    # Then it fires not early (unpatched moto fires 1.3 s early in UTC and at
    # once in JST), and not absurdly late: the bound is loose on purpose, the
    # suite may run on a loaded machine (precision is measured in bench/).
    assert described["status"] == "SUCCEEDED", described
    lateness = fired[0] - datetime.fromisoformat(_z(target)).timestamp()
    assert 0 <= lateness < 1.2, f"fired {lateness:+.3f} s from the timestamp"


def test_wait_rejects_offset_timestamps_like_moto(sfn: Moto) -> None:
    # moto's validation is kept: only ...Z timestamps are accepted.
    definition = {
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "TimestampPath": "$.at", "End": True}},
    }
    described, _ = sfn.run(definition, {"at": "2020-01-01T00:00:00+00:00"})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"


def test_stop_execution_aborts_a_waiting_execution(sfn: Moto) -> None:
    # Given an execution waiting 30 s
    machine = sfn.machine(
        "long-wait",
        {
            "StartAt": "Wait",
            "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}},
        },
    )
    arn = sfn.start(machine, "to-stop", {})
    deadline = time.monotonic() + 5
    while not any(
        e["type"] == "WaitStateEntered" for e in sfn.local.execution_history(arn)
    ):
        assert time.monotonic() < deadline, "the Wait state was never entered"
        time.sleep(0.02)

    # When it is stopped
    started = time.monotonic()
    sfn.local.stepfunctions.stop_execution(executionArn=arn, error="Cancelled")
    described = sfn.local.wait_for_execution(arn, 5)

    # Then it is ABORTED promptly (the patched wait is interruptible)
    assert described["status"] == "ABORTED"
    assert time.monotonic() - started < 2
    assert sfn.local.execution_history(arn)[-1]["type"] == "ExecutionAborted"


def test_stop_right_after_start_aborts_every_execution(sfn: Moto) -> None:
    # A user cancels a snipe the instant it was created: StopExecution can reach
    # moto before the execution's thread exists (unpatched: an internal error).
    machine = sfn.machine(
        "stop-at-once",
        {
            "StartAt": "Wait",
            "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}},
        },
    )
    arns = []
    for i in range(30):
        arn = sfn.start(machine, f"immediate-{i}", {})
        sfn.local.stepfunctions.stop_execution(executionArn=arn, error="Cancelled")
        arns.append(arn)
    statuses = {sfn.local.wait_for_execution(a, 5)["status"] for a in arns}
    assert statuses == {"ABORTED"}


# --------------------------------------------------------------------------- #
# Guard: the moto internals we patch
# --------------------------------------------------------------------------- #
# sha256 (first 16 hex digits) of the source of each function replaced by
# engine.install(), in moto 5.2.5.  A mismatch means moto changed: re-read the
# new code, re-check the patch, then update the digest.
PATCHED_SOURCE_DIGESTS = {
    "invoke": "1b029265c71d5ae0",
    "_get_wait_seconds": "611d040940ad5f39",
    "_wait_interval": "8f954dee80372b4b",
    "boto_client_for": "1f44dc2ac8aa2179",
    "stop": "dc18be1944e1abeb",
    "call_action": "ce5f57cf83cde340",
    "_serialize": "4eccca5bf02593ef",
}


def _digest(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def test_patched_moto_internals_are_unchanged() -> None:
    assert moto.__version__ == "5.2.5", "engine patches are written for moto 5.2.5"
    for target in engine.PATCH_TARGETS:
        current = getattr(target.owner, target.attribute, None)
        assert callable(current), f"{target.owner}.{target.attribute} is gone"
        assert _digest(target.original) == PATCHED_SOURCE_DIGESTS[target.attribute], (
            f"moto changed {target.attribute}; re-check sandbox/engine.py"
        )
    # What the replacements rely on
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (  # noqa: E501
        Timestamp,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    assert callable(Timestamp._from_timestamp_string)
    assert callable(Timestamp._create_failure_event)
    assert callable(Environment.is_running)
    assert "program_state_event.set()" in inspect.getsource(Environment.set_stop)
    assert list(inspect.signature(engine.PATCH_TARGETS[0].original).parameters) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]


def test_install_and_uninstall_are_idempotent() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils,
    )

    was_installed = engine.is_installed()
    try:
        engine.install()
        engine.install()
        for target in engine.PATCH_TARGETS:
            assert getattr(target.owner, target.attribute) is not target.original
        original_client_for = engine.PATCH_TARGETS[3].original
        assert vars(lambda_eval_utils)["boto_client_for"] is not original_client_for
        engine.uninstall()
        engine.uninstall()
        for target in engine.PATCH_TARGETS:
            assert getattr(target.owner, target.attribute) is target.original
        assert vars(lambda_eval_utils)["boto_client_for"] is original_client_for
    finally:
        if was_installed:
            engine.install()

"""The operator CLI (``python -m ops``) against the local stack: moto running
the real ASL, task Lambdas in-process, the eBay and Postmark simulators.

``RedriveExecution`` is not implemented by moto 5.2.5 (no ``redrive`` in
``moto/stepfunctions``): the redrive command's call is checked with a stubbed
Step Functions client over the real table instead.
"""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from ops.cli import main
from ops.operator import Operator, OpsConfig
from sandbox.stack import LocalStack
from tests.support.scenarios import Scenario
from workflows.models import NotificationStatus, SnipeStatus
from workflows.timing import utc_now

pytestmark = pytest.mark.scenario


def _config(stack: LocalStack) -> OpsConfig:
    return OpsConfig(
        table_name=stack.aws.table_name,
        state_machine_arn=stack.aws.state_machine_arn,
        notify_function=stack.aws.function_names["NotifyFunction"],
        notify_qualifier=None,  # no alias locally
        settle_seconds=1.0,
    )


def _operator(stack: LocalStack, **kwargs: object) -> Operator:
    options: dict[str, object] = {
        "dynamodb": stack.aws.dynamodb,
        "stepfunctions": stack.aws.stepfunctions,
        "lambda_client": stack.aws.lambda_,
        **kwargs,
    }
    return Operator(_config(stack), **options)  # type: ignore[arg-type]


def _ops(
    operator: Operator, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    code = main(list(argv), operator=operator)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _waiting_snipe(scenario: Scenario) -> tuple[str, str]:
    """(item id, snipe id) of a snipe (max 40.00, 2 s offset) on an auction
    ending in two minutes: its execution is still waiting."""
    item, created = scenario.auction_and_snipe(120, max_bid="40.00", offset=2)
    return item, created["snipe_id"]


def test_show_find_and_resend_a_won_snipe(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = scenario.stack
    operator = _operator(stack)
    item = scenario.auction(end_in_s=8)
    stack.ebay.add_rival(item, "30.00")
    created = scenario.create(item, max_bid="50.00", offset=2)
    snipe_id = created["snipe_id"]
    run = scenario.finish(snipe_id)
    assert run.snipe.status is SnipeStatus.WON
    capsys.readouterr()

    # show: the record and the timeline in plain words
    code, out, _ = _ops(operator, capsys, "show", snipe_id)
    assert code == 0
    assert f"snipe {snipe_id}: WON" in out
    assert f"execution {snipe_id}: SUCCEEDED (current)" in out
    for words in (
        "execution started",
        "waiting in 'Wait until wake-up'",
        "entered 'Place bid'",
        "'Place bid' succeeded",
        "entered 'Notify user'",
        "execution SUCCEEDED",
        "email SENT",
    ):
        assert words in out, words
    assert "Bearer" not in out and "access_token" not in out

    # find: by user, by item (all users), by status for the user
    user_id = scenario.user[0]
    code, out, _ = _ops(operator, capsys, "find", "--user", user_id)
    assert code == 0 and snipe_id in out and "WON" in out
    code, out, _ = _ops(operator, capsys, "--json", "find", "--item", item)
    assert code == 0 and [s["snipe_id"] for s in json.loads(out)] == [snipe_id]
    code, out, _ = _ops(operator, capsys, "find", "--user", user_id, "--status", "LOST")
    assert code == 0 and out.strip() == "no snipe found"

    # resend-email: Notify sends the result again and records the new email
    before = scenario.emails()
    code, out, err = _ops(operator, capsys, "--json", "resend-email", snipe_id)
    assert code == 0, err
    outcome = json.loads(out)
    assert outcome["email"] == "SENT" and outcome["status"] == "WON"
    after = scenario.emails()
    assert len(after) == len(before) + 1
    assert after[-1]["Subject"] == before[-1]["Subject"]
    record = scenario.snipe(snipe_id).notification
    assert record is not None and record.status is NotificationStatus.SENT
    assert record.message_id == outcome["message_id"]
    assert scenario.snipe(snipe_id).status is SnipeStatus.WON  # untouched


def test_cancel_stuck_and_refusals(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = scenario.stack
    item, snipe_id = _waiting_snipe(scenario)

    # Not stuck now; stuck two hours after the end
    assert _operator(stack).stuck(margin=timedelta(minutes=30)) == []
    later = _operator(stack, clock=lambda: utc_now() + timedelta(hours=2))
    [entry] = later.stuck(margin=timedelta(minutes=30))
    assert entry.snipe.snipe_id == snipe_id
    assert entry.execution is not None and entry.execution.status == "RUNNING"
    assert "RUNNING past" in entry.why

    operator = _operator(stack)
    # No result yet: nothing to re-send, and nothing to redrive
    code, _, err = _ops(operator, capsys, "resend-email", snipe_id)
    assert code == 1 and "SCHEDULED" in err
    code, _, err = _ops(operator, capsys, "redrive", snipe_id)
    assert code == 1 and "RUNNING" in err

    # cancel: CANCELLED, execution stopped, no bid, no email
    code, out, err = _ops(operator, capsys, "cancel", snipe_id)
    assert code == 0, err
    assert "CANCELLED" in out
    snipe = scenario.snipe(snipe_id)
    assert snipe.status is SnipeStatus.CANCELLED
    stopped = stack.aws.wait_for_execution(operator.execution_arn(snipe_id))
    assert stopped["status"] == "ABORTED"
    assert scenario.offer_requests(item, "place_proxy_bid") == []

    # ... and then every command refuses what would be wrong
    code, _, err = _ops(operator, capsys, "cancel", snipe_id)
    assert code == 1 and "CANCELLED" in err
    code, _, err = _ops(operator, capsys, "resend-email", snipe_id)
    assert code == 1 and "CANCELLED" in err
    code, _, err = _ops(operator, capsys, "redrive", snipe_id)
    assert code == 1 and "CANCELLED" in err
    code, _, err = _ops(operator, capsys, "show", "snp_DOESNOTEXIST")
    assert code == 1 and "no snipe" in err.lower()
    assert later.stuck(margin=timedelta(minutes=30)) == []


def test_redrive_calls_redrive_execution_on_the_current_execution(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = scenario.stack
    _, snipe_id = _waiting_snipe(scenario)
    operator = _operator(stack)
    arn = operator.execution_arn(snipe_id)
    client = boto3.client("stepfunctions", region_name=stack.aws.region)
    stubber = Stubber(client)
    started = utc_now()
    failed = {
        "executionArn": arn,
        "stateMachineArn": stack.aws.state_machine_arn,
        "status": "FAILED",
        "startDate": started,
        "error": "EmailUnavailable",
        "cause": "Postmark unavailable",
    }
    stubber.add_response("describe_execution", failed, {"executionArn": arn})
    stubber.add_response(
        "redrive_execution", {"redriveDate": started}, {"executionArn": arn}
    )
    stubber.add_response(
        "describe_execution",
        {**failed, "status": "RUNNING", "redriveCount": 1},
        {"executionArn": arn},
    )
    with stubber:
        code, out, err = _ops(
            _operator(stack, stepfunctions=client), capsys, "redrive", snipe_id
        )
    stubber.assert_no_pending_responses()
    assert code == 0, err
    assert f"execution {snipe_id}: RUNNING" in out
    # clean up: the real execution is still waiting
    assert _ops(operator, capsys, "cancel", snipe_id)[0] == 0

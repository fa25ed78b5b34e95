"""Redrive does the right thing (docs/operations.md, "Redrive").

``RedriveExecution`` restarts a failed execution at the state that failed,
with that state's input, on the same definition. moto 5.2.5 does not
implement it, so each test runs the real ASL to its failure, checks that the
execution failed in the state a redrive re-runs (a Task, not a Fail state),
then does what a redrive does: invokes that state's function with the input
the history recorded for it, and the next state's with its output, until the
end the ASL gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import task_faults
from sandbox.stack import LocalStack, StackConfig, local_stack
from tests.support.scenarios import Scenario, compressed_reconciliation
from workflows.models import NotificationStatus, Reason, SnipeStatus

pytestmark = pytest.mark.scenario

# Reconciliation compressed as in the fault campaign: RESULT_UNKNOWN 6 s
# after the end.
COMPRESSED = compressed_reconciliation(pending_email_after_s=2, patience_s=6)


@pytest.fixture(scope="module")
def stack(captured_logs: list[str]) -> Iterator[LocalStack]:
    config = StackConfig(lead_seconds=3.0, settle_seconds=1.0, extra_env=COMPRESSED)
    with local_stack(config) as running:
        yield running


def _failed_state(history: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The state the execution failed in and the payload its task was given."""
    state, payload = "", {}
    for event in history:
        if "stateEnteredEventDetails" in event:
            state = event["stateEnteredEventDetails"]["name"]
        if event["type"] == "LambdaFunctionScheduled":
            payload = json.loads(event["lambdaFunctionScheduledEventDetails"]["input"])
        if event["type"] == "TaskStateEntered" and state == "Notify user":
            payload = json.loads(event["stateEnteredEventDetails"]["input"])
    return state, payload


def _invoke(stack: LocalStack, function_id: str, payload: dict[str, Any]) -> Any:
    response = stack.aws.lambda_.invoke(
        FunctionName=stack.aws.function_names[function_id],
        Payload=json.dumps(payload).encode(),
    )
    body = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), body
    return body


def _run(scenario: Scenario, snipe_id: str) -> tuple[dict[str, Any], list[Any]]:
    arn = scenario.snipe(snipe_id).execution_arn
    assert arn
    described = scenario.stack.aws.wait_for_execution(arn, timeout=90)
    return described, scenario.stack.aws.execution_history(arn)


def test_an_unsent_email_fails_in_notify_and_a_redrive_sends_it(
    scenario: Scenario,
) -> None:
    stack = scenario.stack
    item = scenario.auction(end_in_s=8)
    stack.ebay.add_rival(item, "30.00")
    snipe_id = scenario.create(item, max_bid="50.00", offset=2)["snipe_id"]
    # Postmark is down for this user; the retried Notify Lambda then dies
    # (no Retry matches Runtime.ExitError): the execution fails in Notify.
    # Postmark holds its 500 for a second after logging it, so the crash cue
    # fires while Notify still waits for the answer (never after it returned).
    fault = stack.postmark.inject_fault(
        "email", status=500, timeout_s=1.0, to=scenario.user[1]
    )
    task_faults.inject_task_fault(
        "NotifyFunction",
        "crash",
        when=lambda: any(
            fault.fault_id == r["fault_id"]
            for r in stack.postmark.requests(endpoint="email")
        ),
        snipe_id=snipe_id,
        count=1,
    )
    described, history = _run(scenario, snipe_id)
    stack.postmark.remove_fault(fault.fault_id)  # Postmark is back

    assert described["status"] == "FAILED"
    assert described.get("error") == "Runtime.ExitError"
    state, payload = _failed_state(history)
    assert state == "Notify user"  # a Task: a redrive runs it again
    snipe = scenario.snipe(snipe_id)
    assert snipe.status is SnipeStatus.WON and snipe.notification is None
    assert scenario.emails() == []

    # Redrive: Notify again with its recorded input, then "Final status?"
    outcome = _invoke(stack, "NotifyFunction", payload)
    assert (outcome["status"], outcome["email"]) == ("WON", "SENT")
    assert outcome["system_failure"] is False  # -> "Snipe finished"
    [email] = scenario.emails()
    assert email["Subject"].startswith("You won")
    notification = scenario.snipe(snipe_id).notification
    assert notification is not None
    assert notification.status is NotificationStatus.SENT

    # A second redrive (or a retry) sends nothing more
    again = _invoke(stack, "NotifyFunction", payload)
    assert again["email"] == "ALREADY_SENT" and len(scenario.emails()) == 1


def test_an_unknown_result_fails_where_a_redrive_asks_ebay_again(
    scenario: Scenario,
) -> None:
    stack = scenario.stack
    item = stack.ebay.create_auction(
        title="Result unknown camera",
        start_price="10.00",
        end_in_s=8,
        settle_delay_s=3600.0,  # eBay keeps saying ACTIVE after the end
    ).item_id
    stack.ebay.add_rival(item, "30.00")
    snipe_id = scenario.create(item, max_bid="50.00", offset=2)["snipe_id"]
    described, history = _run(scenario, snipe_id)

    # Failed in the task a redrive re-runs, with the reason code as its error
    assert described["status"] == "FAILED"
    assert described.get("error") == "RESULT_UNKNOWN"
    state, payload = _failed_state(history)
    assert state == "Check result after failure"
    assert payload == {
        "snipe_id": snipe_id,
        "execution_name": snipe_id,
        "recheck_unknown": True,
    }
    snipe = scenario.snipe(snipe_id)
    assert (snipe.status, snipe.reason) == (SnipeStatus.FAILED, Reason.RESULT_UNKNOWN)
    assert snipe.notification is not None  # the user was told it is unknown
    told = len(scenario.emails())

    # While eBay still cannot tell, a redrive fails the same way and changes
    # nothing
    response = stack.aws.lambda_.invoke(
        FunctionName=stack.aws.function_names["CheckResultFunction"],
        Payload=json.dumps(payload).encode(),
    )
    assert json.loads(response["Payload"].read())["errorType"] == "RESULT_UNKNOWN"
    unchanged = scenario.snipe(snipe_id)
    assert (unchanged.status, unchanged.reason) == (
        SnipeStatus.FAILED,
        Reason.RESULT_UNKNOWN,
    )
    assert unchanged.notification == snipe.notification

    # eBay reports the end again: the redriven check records the truth ...
    with stack.ebay._lock:
        stack.ebay._find(item).settle_delay_s = 0.0
    result = _invoke(stack, "CheckResultFunction", payload)
    assert (result["status"], result["settled"]) == ("WON", True)
    won = scenario.snipe(snipe_id)
    assert won.status is SnipeStatus.WON and won.reason is None
    assert won.notification is None  # the truth is still to be emailed

    # ... and the next state, "Notify user", emails it ("Snipe finished")
    outcome = _invoke(stack, "NotifyFunction", {"snipe_id": snipe_id})
    assert (outcome["status"], outcome["email"]) == ("WON", "SENT")
    assert outcome["system_failure"] is False
    emails = scenario.emails()
    assert len(emails) == told + 1 and emails[-1]["Subject"].startswith("You won")


def test_the_recheck_answers_other_snipes_as_recorded(scenario: Scenario) -> None:
    stack = scenario.stack
    item = scenario.auction(end_in_s=60)
    snipe_id = scenario.create(item, max_bid="50.00", offset=2)["snipe_id"]
    assert scenario.cancel(snipe_id)[0] in (200, 204)

    answer = _invoke(
        stack,
        "CheckResultFunction",
        {"snipe_id": snipe_id, "execution_name": snipe_id, "recheck_unknown": True},
    )

    assert answer["status"] == "CANCELLED"
    assert scenario.snipe(snipe_id).status is SnipeStatus.CANCELLED
    assert scenario.offer_requests(item, "get_bidding") == []

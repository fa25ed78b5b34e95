"""Releases under running executions: an execution started by the previous
release runs to completion on the new code.

On AWS an execution keeps the definition it started with, and that definition
names the published Lambda versions of its release (docs/operations.md,
"Releases"). Old versions stay, so the usual case is "old definition, old
code". But the data those old tasks read and write is the new release's, and
a redrive, or a rollback of the alias `live`, can run the new code under an
old definition. This test pins the hardest mix: the previous release's ASL
(``tests/fixtures/releases/<commit>.snipe.asl.json``, committed byte for
byte from that release), with the execution input that release's API wrote
(``snipe_id``, ``item_id`` and ``plan`` with its four instants), so every
task payload is what that ASL builds, running today's task handlers.

To move the pin at a release: add the new release's ASL as a fixture and
point ``PREVIOUS_RELEASE`` at it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.aws import render_definition
from sandbox.stack import LocalStack
from tests.support.scenarios import Scenario
from workflows.models import NotificationStatus, SnipeStatus
from workflows.timing import to_z

pytestmark = pytest.mark.scenario

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "releases"
PREVIOUS_RELEASE = "f6df0a3"
SUBSTITUTIONS = {
    "RefreshTokenFunctionArn": "RefreshTokenFunction",
    "PlaceBidFunctionArn": "PlaceBidFunction",
    "CheckResultFunctionArn": "CheckResultFunction",
    "NotifyFunctionArn": "NotifyFunction",
}


@pytest.fixture(scope="module")
def previous_machine(stack: LocalStack) -> str:
    """The previous release's state machine, invoking today's functions."""
    asl = (FIXTURES / f"{PREVIOUS_RELEASE}.snipe.asl.json").read_text()
    lambda_ = stack.aws.lambda_
    arns = {
        placeholder: lambda_.get_function(
            FunctionName=stack.aws.function_names[function_id]
        )["Configuration"]["FunctionArn"]
        for placeholder, function_id in SUBSTITUTIONS.items()
    }
    role = stack.aws.stepfunctions.describe_state_machine(
        stateMachineArn=stack.aws.state_machine_arn
    )["roleArn"]
    return stack.aws.stepfunctions.create_state_machine(
        name=f"release-{PREVIOUS_RELEASE}",
        definition=render_definition(asl, arns),
        roleArn=role,
        type="STANDARD",
    )["stateMachineArn"]


def _run_on_previous_release(
    scenario: Scenario, machine: str, snipe_id: str
) -> dict[str, Any]:
    """Hand the snipe to an execution of the previous release's machine."""
    stack = scenario.stack
    snipe = scenario.snipe(snipe_id)
    assert snipe.execution_arn
    # The execution today's API started must not run too: stop it while it
    # waits (the snipe stays SCHEDULED; only an execution of its name claims).
    stack.aws.stepfunctions.stop_execution(executionArn=snipe.execution_arn)
    execution_input = {  # what f6df0a3's create_snipe passed to StartExecution
        "snipe_id": snipe.snipe_id,
        "item_id": snipe.item.item_id,
        "plan": {
            "wake_at": to_z(snipe.plan.wake_at),
            "fire_at": to_z(snipe.plan.fire_at),
            "end_at": to_z(snipe.plan.end_at),
            "settle_at": to_z(snipe.plan.settle_at),
        },
    }
    arn = stack.aws.stepfunctions.start_execution(
        stateMachineArn=machine,
        name=snipe.execution_name or snipe.snipe_id,
        input=json.dumps(execution_input),
    )["executionArn"]
    return stack.aws.wait_for_execution(arn, timeout=90)


def test_a_previous_release_execution_wins_on_the_new_code(
    scenario: Scenario, previous_machine: str
) -> None:
    item = scenario.auction(end_in_s=10)
    scenario.stack.ebay.add_rival(item, "30.00")
    created = scenario.create(item, max_bid="50.00", offset=2)

    described = _run_on_previous_release(
        scenario, previous_machine, created["snipe_id"]
    )

    assert described["status"] == "SUCCEEDED", described
    snipe = scenario.snipe(created["snipe_id"])
    assert snipe.status is SnipeStatus.WON
    assert len(scenario.offer_requests(item, "place_proxy_bid")) == 1
    assert snipe.notification is not None
    assert snipe.notification.status is NotificationStatus.SENT
    [email] = [e for e in scenario.emails() if snipe.item.title in e["Subject"]]
    assert email["Subject"].startswith("You won")


def test_a_previous_release_execution_loses_truthfully_on_the_new_code(
    scenario: Scenario, previous_machine: str
) -> None:
    item = scenario.auction(end_in_s=10)
    # A rival bids 80.00 after our bid has gone in
    scenario.stack.ebay.add_rival(item, "80.00", seconds_before_end=1)
    created = scenario.create(item, max_bid="50.00", offset=2)

    described = _run_on_previous_release(
        scenario, previous_machine, created["snipe_id"]
    )

    snipe = scenario.snipe(created["snipe_id"])
    assert snipe.status is SnipeStatus.LOST, (snipe, described)
    assert described["status"] == "SUCCEEDED"
    assert len(scenario.offer_requests(item, "place_proxy_bid")) == 1
    assert snipe.notification is not None
    assert snipe.notification.status is NotificationStatus.SENT

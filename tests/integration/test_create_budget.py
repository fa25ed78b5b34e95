"""On Lambda, the create path writes nothing it may not finish: with less time
left than the write chain's worst case (workflows/budget.py) it answers 503
WORKFLOW_UNAVAILABLE and neither stores the snipe nor starts an execution."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sandbox.stack import LocalStack
from tests.support.apigw import api_event, call
from tests.support.stack import post_snipe
from workflows import budget

# ApiFunction's client limits (template.yaml): 22 s for the write chain, more
# than the 15 s the test Lambda context has left.
API_LIMITS = {
    "AWS_CLIENT_CONNECT_TIMEOUT": "1",
    "AWS_CLIENT_READ_TIMEOUT": "2",
    "AWS_CLIENT_MAX_ATTEMPTS": "2",
}


@pytest.fixture
def user(stack: LocalStack) -> Iterator[tuple[str, str]]:
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    stack.link_ebay(user_id)
    yield (user_id, f"{user_id}@example.com")
    budget.start_request(None)


def _create(user: tuple[str, str], item_id: str) -> tuple[int, object]:
    status, _, body = post_snipe(user, item_id, "20.00", bid_offset_seconds=3)
    return status, body


def test_too_little_time_left_is_a_503_that_writes_nothing(
    stack: LocalStack, user: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    item = stack.ebay.create_auction(
        title="Budget camera", start_price="10.00", end_in_s=600
    ).item_id
    executions_before = stack.aws.stepfunctions.list_executions(
        stateMachineArn=stack.aws.state_machine_arn
    )["executions"]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ApiFunction")
    for name, value in API_LIMITS.items():
        monkeypatch.setenv(name, value)

    status, body = _create(user, item)

    assert status == 503, body
    assert isinstance(body, dict) and body["error"]["code"] == "WORKFLOW_UNAVAILABLE"
    listed = call(api_event("GET", "/api/snipes", user=user))[2]
    assert listed["items"] == []
    executions_after = stack.aws.stepfunctions.list_executions(
        stateMachineArn=stack.aws.state_machine_arn
    )["executions"]
    assert len(executions_after) == len(executions_before)

    # With time enough (a longer-lived function), the same request schedules
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    budget.start_request(None)
    status, body = _create(user, item)
    assert status == 201, body
    assert isinstance(body, dict)
    cancelled = call(api_event("DELETE", f"/api/snipes/{body['snipe_id']}", user=user))
    assert cancelled[0] in (200, 204)

"""The API Lambda against the local stack: moto running the real state machine,
the eBay simulator over real HTTP, and the services the task Lambdas use.

The module runs its own stack (same configuration as the session ``stack`` of
``tests/conftest.py``) and tears it down when done: ``tests/integration`` runs
before the other suites, and a session stack still running would make later
``mock_aws`` users (``test_engine.py``) nest inside it and lose their reset.
Each test works as its own users (unique ids); executions a test leaves
waiting are stopped afterwards.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sandbox.stack import (
    EBAY_CLIENT_SECRET,
    POSTMARK_TOKEN,
    LocalStack,
    StackConfig,
    local_stack,
)
from tests.support.apigw import api_event, call
from tests.support.stack import post_snipe, wait_until_waiting
from workflows.models import SnipeStatus
from workflows.store import SnipeStore
from workflows.timing import parse_utc

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

User = tuple[str, str]


@pytest.fixture(scope="module")
def stack(captured_logs: list[str]) -> Iterator[LocalStack]:
    with local_stack(StackConfig(lead_seconds=3.0, settle_seconds=1.0)) as running:
        yield running


@pytest.fixture
def user() -> User:
    name = f"api-{uuid.uuid4().hex[:10]}"
    return name, f"{name}@example.com"


@pytest.fixture
def linked(stack: LocalStack, user: User) -> Iterator[User]:
    """A user with a linked eBay account; their waiting executions are stopped."""
    stack.link_ebay(user[0])
    yield user
    sfn = stack.aws.stepfunctions
    items, _ = stack.services.store.list_for_user(user[0], limit=100)
    for arn in (snipe.execution_arn for snipe in items if snipe.execution_arn):
        if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            wait_until_waiting(stack, arn)
            sfn.stop_execution(executionArn=arn, cause="test cleanup")


def create_body(
    item_id: str, value: str = "25.00", currency: str = "USD", **extra: Any
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "max_bid": {"value": value, "currency": currency},
        **extra,
    }


def error_code(result: tuple[int, dict[str, str], Any]) -> tuple[int, str]:
    status, _, body = result
    return status, body["error"]["code"]


def test_create_starts_the_execution_with_ids_and_plan_only(
    stack: LocalStack, linked: User
) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)

    status, _, body = post_snipe(linked, auction.item_id, bid_offset_seconds=5)

    assert status == 201, body
    snipe = stack.services.store.get(body["snipe_id"])
    assert snipe.execution_arn
    described = stack.aws.stepfunctions.describe_execution(
        executionArn=snipe.execution_arn
    )
    assert described["status"] == "RUNNING"
    assert described["name"] == snipe.snipe_id
    assert json.loads(described["input"]) == {
        "snipe_id": snipe.snipe_id,
        "item_id": auction.item_id,
        "plan": body["plan"],
    }
    # lead and settle come from the configuration (SNIPE_LEAD/SETTLE_SECONDS)
    settings = stack.services.settings
    plan = {k: parse_utc(v) for k, v in body["plan"].items()}
    lead = timedelta(seconds=settings.snipe_lead_seconds)
    assert plan["fire_at"] - plan["wake_at"] == lead == timedelta(seconds=3)
    assert plan["end_at"] - plan["fire_at"] == timedelta(seconds=5)
    assert plan["settle_at"] - plan["end_at"] == timedelta(
        seconds=settings.snipe_settle_seconds
    )
    assert snipe.plan.wake_at == plan["wake_at"]

    history = json.dumps(stack.aws.execution_history(snipe.execution_arn), default=str)
    account = stack.services.store.get_ebay_account(linked[0])
    assert account is not None
    for secret in (account.refresh_token, EBAY_CLIENT_SECRET, POSTMARK_TOKEN):
        assert secret not in described["input"]
        assert secret not in history
    assert linked[1] not in described["input"]


def test_cancel_before_wake_up_stops_the_execution_and_never_bids(
    stack: LocalStack, linked: User
) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    _, _, created = post_snipe(linked, auction.item_id)
    execution_arn = stack.services.store.get(created["snipe_id"]).execution_arn
    assert execution_arn
    wait_until_waiting(stack, execution_arn)

    status, _, body = call(
        api_event("DELETE", f"/api/snipes/{created['snipe_id']}", user=linked)
    )

    assert status == 200, body
    assert (body["status"], body["reason"]) == ("CANCELLED", "USER_CANCELLED")
    assert stack.aws.wait_for_execution(execution_arn, timeout=10)["status"] == (
        "ABORTED"
    )
    assert stack.ebay.requests("place_proxy_bid", item_id=auction.item_id) == []


def test_cancel_is_refused_once_bidding_and_once_finished(
    stack: LocalStack, linked: User
) -> None:
    # offset 2 s + lead 3 s: the bid task claims the snipe ~5 s before the end
    # and holds it (BIDDING) until fire_at, 2 s before the end.
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=9)
    _, _, created = post_snipe(linked, auction.item_id, bid_offset_seconds=2)
    snipe_id = created["snipe_id"]
    path = f"/api/snipes/{snipe_id}"

    deadline = time.monotonic() + 15
    while stack.services.store.get(snipe_id).status is SnipeStatus.SCHEDULED:
        assert time.monotonic() < deadline, "the bid task never claimed the snipe"
        time.sleep(0.02)
    during = call(api_event("DELETE", path, user=linked))

    execution_arn = stack.services.store.get(snipe_id).execution_arn
    assert execution_arn
    assert stack.aws.wait_for_execution(execution_arn, timeout=30)["status"] == (
        "SUCCEEDED"
    )
    after = call(api_event("DELETE", path, user=linked))
    _, _, final = call(api_event("GET", path, user=linked))

    assert error_code(during) == (409, "SNIPE_ALREADY_BIDDING")
    assert error_code(after) == (409, "SNIPE_ALREADY_FINISHED")
    assert final["status"] == "WON"
    assert final["bid"]["proxy_bid_id"]
    assert len(stack.ebay.requests("place_proxy_bid", item_id=auction.item_id)) == 1


# --- every refusal of the create route --------------------------------------


def test_invalid_item_reference_is_422(stack: LocalStack, linked: User) -> None:
    result = post_snipe(linked, "watch")

    assert error_code(result) == (422, "INVALID_ITEM_ID")


def test_unknown_item_is_404(stack: LocalStack, linked: User) -> None:
    result = post_snipe(linked, "v1|999999999991|0")

    assert error_code(result) == (404, "ITEM_NOT_FOUND")


def test_fixed_price_listing_is_422(stack: LocalStack, linked: User) -> None:
    listing = stack.ebay.create_auction(
        start_price="50.00", end_in_s=300, listing_type="FIXED_PRICE"
    )

    result = post_snipe(linked, listing.item_id)

    assert error_code(result) == (422, "NOT_AN_AUCTION")


def test_ended_auction_is_409(stack: LocalStack, linked: User) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=-30)

    result = post_snipe(linked, auction.legacy_item_id)

    assert error_code(result) == (409, "AUCTION_ENDED")


def test_auction_ending_within_the_lead_time_is_409(
    stack: LocalStack, linked: User
) -> None:
    # needs offset 6 + lead 3 + start margin 2 = 11 s
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=9)

    status, _, body = post_snipe(linked, auction.item_id)

    assert (status, body["error"]["code"]) == (409, "AUCTION_ENDING_TOO_SOON")
    earliest = parse_utc(body["error"]["details"]["earliest_end_at"])
    assert earliest > parse_utc(body["error"]["details"]["end_at"])


def test_bid_currency_other_than_the_listings_is_422(
    stack: LocalStack, linked: User
) -> None:
    auction = stack.ebay.create_auction(
        start_price="10.00", currency="EUR", marketplace_id="EBAY_DE", end_in_s=300
    )

    result = post_snipe(linked, auction.item_id)

    assert error_code(result) == (422, "CURRENCY_MISMATCH")


def test_max_bid_below_the_minimum_is_422(stack: LocalStack, linked: User) -> None:
    auction = stack.ebay.create_auction(start_price="300.00", end_in_s=300)

    status, _, body = post_snipe(linked, auction.item_id)

    assert (status, body["error"]["code"]) == (422, "MAX_BID_TOO_LOW")
    assert body["error"]["details"]["minimum_bid"] == {
        "value": "300.00",
        "currency": "USD",
    }


def test_unlinked_ebay_account_is_409(stack: LocalStack, user: User) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)

    result = post_snipe(user, auction.item_id)

    assert error_code(result) == (409, "EBAY_NOT_LINKED")


@pytest.mark.parametrize(
    "change",
    [
        {"bid_offset_seconds": 0},
        {"bid_offset_seconds": 61},
        {"max_bid": {"value": 25, "currency": "USD"}},
        {"max_bid": {"value": "25.001", "currency": "USD"}},
        {"max_bid": {"value": "25.00"}},
        {"item_id": None},
    ],
)
def test_invalid_body_is_422_validation_failed(
    stack: LocalStack, linked: User, change: dict[str, Any]
) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    body = {**create_body(auction.item_id), **change}
    body = {k: v for k, v in body.items() if v is not None}

    status, _, answer = call(api_event("POST", "/api/snipes", user=linked, body=body))

    assert (status, answer["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert answer["error"]["details"]["errors"]
    assert stack.services.store.list_for_user(linked[0])[0] == []


def test_no_claims_is_401(stack: LocalStack) -> None:
    for method, path in [("GET", "/api/snipes"), ("POST", "/api/snipes")]:
        result = call(api_event(method, path, user=None, body={}))
        assert error_code(result) == (401, "UNAUTHORIZED")


def test_ebay_down_is_502(stack: LocalStack, linked: User) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    stack.ebay.inject_fault("get_item", status=503, count=1, item_id=auction.item_id)

    result = post_snipe(linked, auction.item_id)

    assert error_code(result) == (502, "EBAY_UNAVAILABLE")
    assert stack.services.store.list_for_user(linked[0])[0] == []


def test_dynamodb_throttling_is_503_with_retry_after(
    stack: LocalStack, linked: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("dynamodb", region_name=stack.aws.region)
    monkeypatch.setattr(
        stack.services, "store", SnipeStore(stack.aws.table_name, client=client)
    )

    with Stubber(client) as stubber:
        stubber.add_client_error(
            "query", service_error_code="ProvisionedThroughputExceededException"
        )
        status, headers, body = call(api_event("GET", "/api/snipes", user=linked))

    assert (status, body["error"]["code"]) == (503, "STORE_UNAVAILABLE")
    assert int(headers["retry-after"]) > 0


# --- ownership and listing ---------------------------------------------------


def test_user_b_can_neither_read_list_nor_cancel_user_as_snipe(
    stack: LocalStack, linked: User
) -> None:
    other = ("api-other-" + uuid.uuid4().hex[:8], "other@example.com")
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    _, _, created = post_snipe(linked, auction.item_id)
    path = f"/api/snipes/{created['snipe_id']}"

    read = call(api_event("GET", path, user=other))
    cancel = call(api_event("DELETE", path, user=other))
    _, _, listing = call(api_event("GET", "/api/snipes", user=other))

    assert error_code(read) == (404, "SNIPE_NOT_FOUND")
    assert error_code(cancel) == (404, "SNIPE_NOT_FOUND")
    assert listing["items"] == []
    assert stack.services.store.get(created["snipe_id"]).status is (
        SnipeStatus.SCHEDULED
    )


def test_list_pages_newest_first_and_filters_by_status(
    stack: LocalStack, linked: User
) -> None:
    created = []
    for _ in range(5):
        auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
        _, _, body = post_snipe(linked, auction.item_id)
        created.append(body["snipe_id"])
        time.sleep(0.002)  # distinct created_at milliseconds
    cancelled_arn = stack.services.store.get(created[1]).execution_arn
    assert cancelled_arn
    wait_until_waiting(stack, cancelled_arn)
    call(api_event("DELETE", f"/api/snipes/{created[1]}", user=linked))

    seen: list[str] = []
    query: dict[str, str] = {"limit": "2"}
    while True:
        status, _, page = call(
            api_event("GET", "/api/snipes", user=linked, query=query)
        )
        assert status == 200, page
        seen += [item["snipe_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        query = {"limit": "2", "cursor": page["next_cursor"]}
    _, _, cancelled = call(
        api_event("GET", "/api/snipes", user=linked, query={"status": "CANCELLED"})
    )
    tampered = call(
        api_event("GET", "/api/snipes", user=linked, query={"cursor": "eyJQSyI6MX0"})
    )

    assert seen == list(reversed(created))
    assert [item["snipe_id"] for item in cancelled["items"]] == [created[1]]
    assert error_code(tampered) == (400, "INVALID_CURSOR")

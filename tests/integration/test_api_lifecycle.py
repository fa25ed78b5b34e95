"""Issue 5 routes against the local stack: moto running the real state machine
and the table of ``template.yaml``, the eBay simulator over real HTTP.

Nothing here waits for an auction to end (``tests/scenarios/test_snipe_edits.py``
does): edits, idempotent creates, history filters, stats and preferences as
the API answers them and as the stack stores and runs them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from sandbox.stack import LocalStack, StackConfig, local_stack
from tests.support.apigw import api_event, call
from tests.support.stack import stop_running, wait_until_waiting
from workflows.models import SnipeStatus
from workflows.store import IDEMPOTENCY_PARTITION
from workflows.timing import parse_utc, to_z, utc_now

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

User = tuple[str, str]
Result = tuple[int, dict[str, str], Any]


@pytest.fixture(scope="module")
def stack(captured_logs: list[str]) -> Iterator[LocalStack]:
    with local_stack(StackConfig(lead_seconds=3.0, settle_seconds=1.0)) as running:
        yield running


@pytest.fixture
def linked(stack: LocalStack) -> Iterator[User]:
    name = f"life-{uuid.uuid4().hex[:10]}"
    stack.link_ebay(name)
    yield name, f"{name}@example.com"
    stop_running(stack, name)


def body_for(item_id: str, value: str = "25.00", **extra: Any) -> dict[str, Any]:
    return {"item_id": item_id, "max_bid": {"value": value, "currency": "USD"}, **extra}


def post(user: User, body: Any, key: str | None = None) -> Result:
    headers = {"Idempotency-Key": key} if key else None
    return call(api_event("POST", "/api/snipes", user=user, body=body, headers=headers))


def patch(user: User, snipe_id: str, body: Any) -> Result:
    return call(api_event("PATCH", f"/api/snipes/{snipe_id}", user=user, body=body))


def created(stack: LocalStack, user: User, end_in_s: float = 300, **extra: Any) -> str:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=end_in_s)
    status, _, body = post(user, body_for(auction.item_id, **extra))
    assert status == 201, body
    snipe_id = str(body["snipe_id"])
    wait_until_waiting(stack, str(stack.services.store.get(snipe_id).execution_arn))
    return snipe_id


def describe(stack: LocalStack, arn: str) -> dict[str, Any]:
    return dict(stack.aws.stepfunctions.describe_execution(executionArn=arn))


def test_offset_change_runs_v2_and_stops_the_first_execution(
    stack: LocalStack, linked: User
) -> None:
    snipe_id = created(stack, linked)
    first_arn = str(stack.services.store.get(snipe_id).execution_arn)

    status, _, body = patch(linked, snipe_id, {"bid_offset_seconds": 9})

    assert status == 200, body
    snipe = stack.services.store.get(snipe_id)
    assert snipe.execution_name == f"{snipe_id}-v2"
    described = describe(stack, str(snipe.execution_arn))
    assert (described["status"], described["name"]) == ("RUNNING", f"{snipe_id}-v2")
    assert json.loads(described["input"])["plan"] == body["plan"]
    fire = parse_utc(body["plan"]["fire_at"])
    assert parse_utc(body["plan"]["end_at"]) - fire == timedelta(seconds=9)
    assert stack.aws.wait_for_execution(first_arn, timeout=10)["status"] == "ABORTED"

    # A cancel now stops the current execution.
    wait_until_waiting(stack, str(snipe.execution_arn))
    status, _, _ = call(api_event("DELETE", f"/api/snipes/{snipe_id}", user=linked))
    assert status == 200
    final = stack.aws.wait_for_execution(str(snipe.execution_arn), timeout=10)
    assert final["status"] == "ABORTED"


def test_max_bid_change_is_checked_against_ebays_current_minimum(
    stack: LocalStack, linked: User
) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    status, _, body = post(linked, body_for(auction.item_id, value="50.00"))
    assert status == 201, body
    snipe_id = body["snipe_id"]
    # Two rivals take the price to 41.00 after the snipe was created.
    stack.ebay.add_rival(auction.item_id, "60.00")
    stack.ebay.add_rival(auction.item_id, "40.00")
    deadline = time.monotonic() + 5
    while len(stack.ebay.get_auction(auction.item_id).bids) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)

    low = patch(linked, snipe_id, {"max_bid": {"value": "41.00", "currency": "USD"}})
    ok = patch(linked, snipe_id, {"max_bid": {"value": "75.00", "currency": "USD"}})

    assert (low[0], low[2]["error"]["code"]) == (422, "MAX_BID_TOO_LOW")
    minimum = low[2]["error"]["details"]["minimum_bid"]
    assert float(minimum["value"]) > 41.00
    assert ok[0] == 200, ok[2]
    assert stack.services.store.get(snipe_id).max_bid.value == "75.00"
    browse = stack.ebay.requests(endpoint="get_item", item_id=auction.item_id)
    assert len(browse) >= 3  # create + one fresh read per max-bid change


def test_edits_refused_for_other_users_and_finished_snipes(
    stack: LocalStack, linked: User
) -> None:
    snipe_id = created(stack, linked)
    other = f"other-{uuid.uuid4().hex[:8]}"
    stack.link_ebay(other)

    soon = created(stack, linked, end_in_s=20)
    too_soon = patch(linked, soon, {"bid_offset_seconds": 20})
    assert (too_soon[0], too_soon[2]["error"]["code"]) == (
        409,
        "AUCTION_ENDING_TOO_SOON",
    )
    assert stack.services.store.get(soon).execution_name == soon
    theirs = patch((other, f"{other}@example.com"), snipe_id, {"bid_offset_seconds": 4})
    assert (theirs[0], theirs[2]["error"]["code"]) == (404, "SNIPE_NOT_FOUND")
    assert call(api_event("DELETE", f"/api/snipes/{snipe_id}", user=linked))[0] == 200
    done = patch(linked, snipe_id, {"bid_offset_seconds": 4})
    assert (done[0], done[2]["error"]["code"]) == (409, "SNIPE_ALREADY_FINISHED")


def test_idempotent_create_on_the_stack(stack: LocalStack, linked: User) -> None:
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    key = str(uuid.uuid4())

    first = post(linked, body_for(auction.item_id), key)
    again = post(linked, body_for(auction.item_id), key)
    other_body = post(linked, body_for(auction.item_id, value="26.00"), key)

    assert (first[0], again[0]) == (201, 201)
    # The same snipe; the clock and the live values are the replay's own.
    per_response = {"server_time", "live"}
    assert {k: v for k, v in again[2].items() if k not in per_response} == {
        k: v for k, v in first[2].items() if k not in per_response
    }
    assert (other_body[0], other_body[2]["error"]["code"]) == (
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    snipe_id = first[2]["snipe_id"]
    executions = stack.aws.stepfunctions.list_executions(
        stateMachineArn=stack.aws.state_machine_arn
    )["executions"]
    assert [e["name"] for e in executions if e["name"].startswith(snipe_id)] == [
        snipe_id
    ]
    items, _ = stack.services.store.list_for_user(linked[0])
    assert [s.snipe_id for s in items] == [snipe_id]
    # The record expires through the table's TTL attribute (template.yaml).
    dynamodb = stack.aws.dynamodb
    table = stack.services.settings.table_name
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"
    records = dynamodb.query(
        TableName=table,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": IDEMPOTENCY_PARTITION}},
    )["Items"]
    expiries = [int(r["ttl"]["N"]) for r in records if snipe_id in r["response"]["S"]]
    assert len(expiries) == 1
    assert abs(expiries[0] - (time.time() + 86400)) < 120


def test_history_filters_and_stats_on_the_stack(
    stack: LocalStack, linked: User
) -> None:
    ids = [created(stack, linked, end_in_s=s) for s in (300, 600, 900)]
    middle = to_z(utc_now() + timedelta(seconds=450))

    later = call(
        api_event(
            "GET",
            "/api/snipes",
            user=linked,
            query={"ends_after": middle, "status": "SCHEDULED", "limit": "1"},
        )
    )
    assert later[0] == 200, later[2]
    assert [s["snipe_id"] for s in later[2]["items"]] == [ids[2]]
    rest = call(
        api_event(
            "GET",
            "/api/snipes",
            user=linked,
            query={
                "ends_after": middle,
                "status": "SCHEDULED",
                "limit": "1",
                "cursor": later[2]["next_cursor"],
            },
        )
    )
    assert [s["snipe_id"] for s in rest[2]["items"]] == [ids[1]]
    earlier = call(
        api_event("GET", "/api/snipes", user=linked, query={"ends_before": middle})
    )
    assert [s["snipe_id"] for s in earlier[2]["items"]] == [ids[0]]
    assert earlier[2]["next_cursor"] is None

    assert call(api_event("DELETE", f"/api/snipes/{ids[0]}", user=linked))[0] == 200
    status, _, stats = call(api_event("GET", "/api/stats", user=linked))
    assert status == 200
    [usd] = stats["currencies"]
    assert (usd["counts"]["active"], usd["counts"]["CANCELLED"]) == (2, 1)
    assert usd["total_spent"] == {"value": "0.00", "currency": "USD"}
    assert usd["fire_error_ms"] == {"count": 0, "average": None, "p95": None}


def test_preferences_on_the_stack(stack: LocalStack, linked: User) -> None:
    everything = {"WON": True, "LOST": True, "SKIPPED": True, "FAILED": True}
    assert call(api_event("GET", "/api/me/preferences", user=linked))[2] == {
        "email_on": everything
    }
    quiet = {**everything, "SKIPPED": False}

    status, _, body = call(
        api_event("PUT", "/api/me/preferences", user=linked, body={"email_on": quiet})
    )

    assert (status, body) == (200, {"email_on": quiet})
    prefs = stack.services.store.get_preferences(linked[0])
    assert prefs.emails(SnipeStatus.SKIPPED) is False
    assert prefs.emails(SnipeStatus.WON) is True


def test_groups_on_create_and_edit_warn_about_close_ends(
    stack: LocalStack, linked: User
) -> None:
    status, _, group = call(
        api_event(
            "POST",
            "/api/groups",
            user=linked,
            body={"name": "Film cameras", "wins_wanted": 1},
        )
    )
    assert status == 201, group
    group_id = group["group_id"]
    a = stack.ebay.create_auction(start_price="10.00", end_in_s=300)
    b = stack.ebay.create_auction(start_price="10.00", end_in_s=310)

    first = post(linked, body_for(a.item_id, group_id=group_id))
    second = post(linked, body_for(b.item_id))
    assert (first[0], first[2]["warnings"], second[0]) == (201, [], 201)
    joined = patch(linked, second[2]["snipe_id"], {"group_id": group_id})

    assert joined[0] == 200, joined[2]
    assert joined[2]["group_id"] == group_id
    [warning] = joined[2]["warnings"]
    assert first[2]["snipe_id"] in warning
    left = patch(linked, second[2]["snipe_id"], {"group_id": None})
    assert (left[0], left[2]["group_id"], left[2]["warnings"]) == (200, None, [])
    strangers = patch(linked, first[2]["snipe_id"], {"group_id": "grp_unknown"})
    assert (strangers[0], strangers[2]["error"]["code"]) == (404, "GROUP_NOT_FOUND")

"""Issue 5 end to end on the real ASL: edits read by the bid task, an offset
change handed to a new execution, preferences honoured by the notify task, and
the stats of finished snipes (sandbox: lead 3 s, settle 1 s)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import outcome_counts
from tests.support.apigw import api_event, call
from tests.support.scenarios import HAPPY_PATH, Scenario, seconds_between
from tests.support.stack import wait_until_waiting
from workflows.models import NotificationStatus, SnipeStatus

pytestmark = pytest.mark.scenario


def patch(scenario: Scenario, snipe_id: str, body: Any) -> tuple[int, Any]:
    status, _, answer = call(
        api_event("PATCH", f"/api/snipes/{snipe_id}", user=scenario.user, body=body)
    )
    return status, answer


def test_a_raised_max_bid_is_the_one_the_bid_task_sends(scenario: Scenario) -> None:
    item = scenario.auction(end_in_s=9)
    scenario.stack.ebay.add_rival(item, "60.00", seconds_before_end=4)
    created = scenario.create(item, max_bid="50.00", offset=2)

    status, body = patch(
        scenario,
        created["snipe_id"],
        {"max_bid": {"value": "70.00", "currency": "USD"}},
    )
    assert status == 200, body
    run = scenario.finish(created["snipe_id"])

    [bid] = scenario.offer_requests(item, "place_proxy_bid")
    assert bid["max_amount"] == {"value": "70.00", "currency": "USD"}
    assert run.snipe.status is SnipeStatus.WON
    assert run.snipe.result is not None and run.snipe.result.final_price is not None
    assert run.snipe.result.final_price.value == "61.00"
    assert run.snipe.bid is not None and run.snipe.bid.max_bid.value == "70.00"


def test_an_edit_after_the_claim_is_refused_and_the_claimed_max_bid_is_sent(
    scenario: Scenario,
) -> None:
    item, created = scenario.auction_and_snipe(8, max_bid="50.00")
    scenario.wait_for_status(created["snipe_id"], SnipeStatus.BIDDING)

    status, body = patch(
        scenario,
        created["snipe_id"],
        {"max_bid": {"value": "90.00", "currency": "USD"}},
    )

    assert (status, body["error"]["code"]) == (409, "SNIPE_ALREADY_BIDDING")
    run = scenario.finish(created["snipe_id"])
    assert run.snipe.status is SnipeStatus.WON
    [bid] = scenario.offer_requests(item, "place_proxy_bid")
    assert bid["max_amount"] == {"value": "50.00", "currency": "USD"}


def test_an_offset_change_moves_the_bid_to_a_new_execution(scenario: Scenario) -> None:
    item, created = scenario.auction_and_snipe(10)
    snipe_id = created["snipe_id"]
    first_arn = str(scenario.snipe(snipe_id).execution_arn)
    wait_until_waiting(scenario.stack, first_arn)

    status, body = patch(scenario, snipe_id, {"bid_offset_seconds": 3})

    assert status == 200, body
    moved = scenario.snipe(snipe_id)
    assert moved.execution_arn is not None
    assert moved.execution_arn.endswith(f":{snipe_id}-v2")
    first = scenario.stack.aws.wait_for_execution(first_arn, timeout=10)
    assert first["status"] == "ABORTED"
    run = scenario.finish(snipe_id)
    assert run.description["status"] == "SUCCEEDED"
    assert run.states == HAPPY_PATH
    assert run.snipe.status is SnipeStatus.WON
    [bid] = scenario.offer_requests(item, "place_proxy_bid")
    error = seconds_between(bid["arrival"], body["plan"]["fire_at"])
    assert -0.005 <= error <= 0.100
    moved_by = seconds_between(body["plan"]["fire_at"], created["plan"]["fire_at"])
    assert abs(moved_by + 1) < 0.001  # one second earlier


def test_a_disabled_outcome_is_not_emailed(scenario: Scenario) -> None:
    email_on = {"WON": True, "LOST": False, "SKIPPED": True, "FAILED": True}
    status, _, _ = call(
        api_event(
            "PUT",
            "/api/me/preferences",
            user=scenario.user,
            body={"email_on": email_on},
        )
    )
    assert status == 200
    item = scenario.auction(end_in_s=8)
    scenario.stack.ebay.add_rival(item, "80.00", seconds_before_end=1)
    created = scenario.create(item, max_bid="50.00", offset=2)

    run = scenario.finish(created["snipe_id"])

    assert run.description["status"] == "SUCCEEDED"
    assert run.snipe.status is SnipeStatus.LOST
    assert run.snipe.notification is not None
    assert run.snipe.notification.status is NotificationStatus.SUPPRESSED
    assert scenario.emails() == []
    outcome = [
        e["stateExitedEventDetails"]["output"]
        for e in run.history
        if e.get("stateExitedEventDetails", {}).get("name") == "Notify user"
    ]
    assert '"email":"SUPPRESSED"' in outcome[0].replace(" ", "")


def test_stats_after_a_win(scenario: Scenario) -> None:
    item = scenario.auction(end_in_s=8)
    scenario.stack.ebay.add_rival(item, "30.00")
    created = scenario.create(item, max_bid="50.00", offset=2)
    scenario.finish(created["snipe_id"])

    status, _, body = call(api_event("GET", "/api/stats", user=scenario.user))

    assert status == 200, body
    [usd] = body["currencies"]
    assert usd["counts"] == outcome_counts(WON=1)
    assert usd["total_spent"] == {"value": "31.00", "currency": "USD"}
    assert usd["savings_on_wins"] == {"value": "19.00", "currency": "USD"}
    assert usd["fire_error_ms"]["count"] == 1
    assert abs(usd["fire_error_ms"]["p95"]) < 100

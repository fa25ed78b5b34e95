"""Wake-time re-check: the bid task re-reads the listing before it sleeps until
fire_at (sandbox: lead 3 s, so the re-check runs at end - offset - 3 s)."""

from __future__ import annotations

import time

import pytest

from tests.support.scenarios import Scenario, seconds_between
from workflows.models import Reason, SnipeStatus

pytestmark = pytest.mark.scenario


def test_listing_ended_early_is_skipped_without_a_bid(scenario: Scenario) -> None:
    item, created = scenario.auction_and_snipe(9)
    scenario.stack.ebay.end_auction(item)  # the seller ends it before the wake-up
    run = scenario.finish(created["snipe_id"])

    assert run.snipe.status is SnipeStatus.SKIPPED
    assert run.snipe.reason is Reason.ENDED_EARLY
    assert "SnipeSkipped" in run.errors()
    assert scenario.offer_requests(item, "place_proxy_bid") == []
    [email] = scenario.emails()
    assert "skipped" in email["Subject"] and "ENDED_EARLY" in email["TextBody"]


def test_price_above_the_max_before_the_bid_is_skipped(scenario: Scenario) -> None:
    item, created = scenario.auction_and_snipe(9, max_bid="30.00")
    # Two rivals take the price to 41.00 before the wake-up
    scenario.stack.ebay.add_rival(item, "60.00")
    scenario.stack.ebay.add_rival(item, "40.00")
    run = scenario.finish(created["snipe_id"])

    assert run.snipe.status is SnipeStatus.SKIPPED
    assert run.snipe.reason is Reason.OUTBID_BEFORE_FIRE
    assert scenario.offer_requests(item, "place_proxy_bid") == []
    [email] = scenario.emails()
    assert "OUTBID_BEFORE_FIRE" in email["TextBody"]


def test_end_moved_later_hands_over_to_a_new_execution(scenario: Scenario) -> None:
    item, created = scenario.auction_and_snipe(8)
    first_arn = scenario.snipe(created["snipe_id"]).execution_arn
    time.sleep(1)
    scenario.stack.ebay.change_end(item, end_in_s=18)  # e.g. after an eBay outage

    first = scenario.stack.aws.wait_for_execution(str(first_arn), timeout=30)
    assert first["status"] == "SUCCEEDED"
    history = scenario.stack.aws.execution_history(str(first_arn))
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in history
        if "stateEnteredEventDetails" in e
    ]
    assert entered[-1] == "Snipe rescheduled"

    moved = scenario.snipe(created["snipe_id"])
    assert moved.execution_arn is not None and moved.execution_arn != first_arn
    assert moved.execution_arn.endswith(f"{created['snipe_id']}-v2")
    run = scenario.finish(created["snipe_id"])
    assert run.snipe.status is SnipeStatus.WON
    [bid] = scenario.offer_requests(item, "place_proxy_bid")
    new_fire_at = run.snipe.plan.fire_at.isoformat().replace("+00:00", "Z")
    assert abs(seconds_between(bid["arrival"], new_fire_at)) < 0.1


def test_end_moved_earlier_fires_earlier(scenario: Scenario) -> None:
    item, created = scenario.auction_and_snipe(10, offset=2)  # wake-up at end - 5 s
    scenario.stack.ebay.change_end(item, end_in_s=7.5)
    run = scenario.finish(created["snipe_id"])

    assert run.snipe.status is SnipeStatus.WON
    [bid] = scenario.offer_requests(item, "place_proxy_bid")
    assert seconds_between(bid["arrival"], created["plan"]["fire_at"]) < -1.5
    assert run.snipe.bid is not None and abs(run.snipe.bid.fire_error_ms) < 100

"""End to end: API call -> DynamoDB -> the real ASL (moto) -> task Lambdas ->
eBay simulator (real HTTP) -> result -> email in the Postmark simulator.

Timing: auctions end ~8 s ahead; the sandbox runs with lead 3 s and settle 1 s.
The last test scans every execution history of this module and every log line
of the session for secrets.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from sandbox.stack import LocalStack
from tests.support.scenarios import (
    Scenario,
    assert_settled,
    seconds_between,
)
from workflows.models import NotificationStatus, Reason, SnipeStatus

pytestmark = pytest.mark.scenario


def test_snipe_wins_against_a_lower_rival(scenario: Scenario) -> None:
    # Given an auction ending in ~8 s with a rival whose max is 30.00
    item = scenario.auction(end_in_s=8)
    scenario.stack.ebay.add_rival(item, "30.00")
    # When the user snipes it with a max of 50.00, 2 s before the end
    created = scenario.create(item, max_bid="50.00", offset=2)
    assert created["status"] == "SCHEDULED"
    run = scenario.finish(created["snipe_id"])

    # Then the execution ran the expected states and the snipe is WON at 31.00
    assert_settled(run, SnipeStatus.WON, "31.00")

    # The bid reached eBay within 100 ms of fire_at
    bids = scenario.offer_requests(item, "place_proxy_bid")
    assert len(bids) == 1
    fire_at = created["plan"]["fire_at"]
    error = seconds_between(bids[0]["arrival"], fire_at)
    assert -0.005 <= error <= 0.100, f"bid arrived {error * 1000:.1f} ms from fire_at"
    assert run.snipe.bid is not None and abs(run.snipe.bid.fire_error_ms) < 100

    # And the email names the item and the price
    [email] = scenario.emails()
    assert created["item"]["title"] in email["Subject"]
    assert "31.00" in email["TextBody"]
    assert run.snipe.notification is not None
    assert run.snipe.notification.status is NotificationStatus.SENT


def test_snipe_loses_to_a_higher_rival(scenario: Scenario) -> None:
    item = scenario.auction(end_in_s=8)
    # A rival bids 80.00 after our bid has gone in
    scenario.stack.ebay.add_rival(item, "80.00", seconds_before_end=1)
    created = scenario.create(item, max_bid="50.00", offset=2)
    run = scenario.finish(created["snipe_id"])

    assert_settled(run, SnipeStatus.LOST, "51.00")
    [email] = scenario.emails()
    assert email["Subject"].startswith("Outbid")
    assert "51.00" in email["TextBody"]


def test_cancelled_before_wake_sends_no_bid_at_all(scenario: Scenario) -> None:
    item, created = scenario.auction_and_snipe(7, offset=1)
    status, body = scenario.cancel(created["snipe_id"])
    assert status == 200, body
    assert body["status"] == "CANCELLED"
    run = scenario.finish(created["snipe_id"], timeout=10)
    assert run.description["status"] == "ABORTED"
    assert "Place bid" not in run.states

    # Wait past the planned bid time: still nothing reached eBay's Offer API.
    time.sleep(max(0.0, seconds_between(time.time(), created["plan"]["end_at"]) * -1))
    assert scenario.offer_requests(item, "place_proxy_bid") == []
    assert scenario.offer_requests(item, "get_bidding") == []
    assert scenario.snipe(created["snipe_id"]).status is SnipeStatus.CANCELLED
    assert scenario.emails() == []


def test_cancel_after_the_bid_task_claimed_the_snipe_is_refused(
    scenario: Scenario,
) -> None:
    item, created = scenario.auction_and_snipe(8)
    scenario.wait_for_status(created["snipe_id"], SnipeStatus.BIDDING)

    status, body = scenario.cancel(created["snipe_id"])

    assert status == 409
    assert body["error"]["code"] == "SNIPE_ALREADY_BIDDING"
    run = scenario.finish(created["snipe_id"])
    assert run.snipe.status is SnipeStatus.WON
    assert len(scenario.offer_requests(item, "place_proxy_bid")) == 1


def test_unsettled_auction_is_retried_until_ebay_reports_the_end(
    scenario: Scenario,
) -> None:
    # eBay keeps reporting ACTIVE for 2.5 s after the end
    item, created = scenario.auction_and_snipe(8, settle_delay_s=2.5)
    run = scenario.finish(created["snipe_id"])

    assert run.snipe.status is SnipeStatus.WON
    assert run.description["status"] == "SUCCEEDED"
    # Checked, found ACTIVE, waited, checked again (patient reconciliation)
    assert run.states.count("Check result") >= 2
    assert "Wait before re-checking" in run.states
    assert not [e for e in scenario.emails() if "pending" in e["Subject"]]
    assert len(scenario.offer_requests(item, "get_bidding")) >= 2
    [email] = scenario.emails()
    assert email["Subject"].startswith("You won")


def test_ebay_503_on_the_bid_is_retried_and_succeeds(scenario: Scenario) -> None:
    item = scenario.auction(end_in_s=9)
    scenario.stack.ebay.inject_fault(
        "place_proxy_bid", status=503, count=1, item_id=item
    )
    created = scenario.create(item, offset=3)
    run = scenario.finish(created["snipe_id"])

    assert run.snipe.status is SnipeStatus.WON
    # Re-sent inside the bid task, after getBidding said eBay has no bid of ours
    assert run.errors() == []
    bids = scenario.offer_requests(item, "place_proxy_bid")
    assert [r["status"] for r in bids] == [503, 200]
    checks = [
        r
        for r in scenario.offer_requests(item, "get_bidding")
        if bids[0]["arrival"] < r["arrival"] < bids[1]["arrival"]
    ]
    assert checks, "getBidding was asked before the re-send"
    bid = run.snipe.bid
    assert bid is not None and bid.attempt == 1 and len(bid.retries) == 1
    # The fire time is the first send's, the re-send is recorded apart
    assert abs(bid.fire_error_ms) < 100
    assert bid.retries[0].sent_at > bid.sent_at


def test_permanent_bid_error_fails_the_snipe_with_a_reason_and_an_email(
    scenario: Scenario,
) -> None:
    # Two rivals push the price to 71.00 after the wake-time re-check (end - 5 s)
    # and before the bid (end - 2 s): eBay refuses 50.00 as too low.
    item, created = scenario.auction_and_snipe(8, max_bid="50.00")
    scenario.stack.ebay.add_rival(item, "100.00", seconds_before_end=3.5)
    scenario.stack.ebay.add_rival(item, "70.00", seconds_before_end=3.0)
    run = scenario.finish(created["snipe_id"])

    # A market outcome: the execution succeeds (only system failures fail it)
    assert run.description["status"] == "SUCCEEDED"
    assert run.snipe.status is SnipeStatus.FAILED
    assert run.snipe.reason is Reason.BID_TOO_LOW
    assert run.errors()[0] == "BidRejected"
    assert run.states[-1] == "Snipe finished"
    assert "Check result" not in run.states  # eBay's refusal is definite
    [email] = scenario.emails()
    assert "failed" in email["Subject"]
    assert "BID_TOO_LOW" in email["TextBody"]


def test_postmark_rejection_does_not_fail_a_won_snipe(scenario: Scenario) -> None:
    scenario.stack.postmark.mark_inactive(scenario.user[1])
    _, created = scenario.auction_and_snipe(8)
    run = scenario.finish(created["snipe_id"])

    assert run.description["status"] == "SUCCEEDED"
    assert run.snipe.status is SnipeStatus.WON
    assert run.snipe.notification is not None
    assert run.snipe.notification.status is NotificationStatus.REJECTED
    assert run.snipe.notification.error_code == 406
    assert scenario.emails() == []


def test_revoked_refresh_token_skips_the_snipe_and_tells_the_user(
    scenario: Scenario,
) -> None:
    item, created = scenario.auction_and_snipe(8)
    scenario.stack.ebay.revoke_user_refresh_tokens(scenario.user[0])
    run = scenario.finish(created["snipe_id"])

    assert run.description["status"] == "SUCCEEDED"
    assert run.snipe.status is SnipeStatus.SKIPPED
    assert run.snipe.reason is Reason.EBAY_RECONNECT_REQUIRED
    assert "EbayReconnectRequired" in run.errors()
    assert scenario.offer_requests(item, "place_proxy_bid") == []
    account = scenario.stack.services.store.get_ebay_account(scenario.user[0])
    assert account is not None and account.needs_reconnect
    [email] = scenario.emails()
    assert "Reconnect your eBay account" in email["TextBody"]


# Keep this last: it scans what the scenarios above produced.
def _secrets(stack: LocalStack) -> list[str]:
    app_secrets = stack.secret_values()  # client secret, Postmark token, state key
    basic = base64.b64encode(
        f"{stack.services.secrets.ebay_client_id}:{app_secrets[0]}".encode()
    ).decode()
    values = [*app_secrets, basic, *stack.ebay.issued_secrets()]
    return [v for v in values if v]


def test_no_secret_in_any_execution_history_or_log_line(
    scenario: Scenario, stack: LocalStack, captured_logs: list[str]
) -> None:
    _, created = scenario.auction_and_snipe(8)
    assert scenario.finish(created["snipe_id"]).snipe.status is SnipeStatus.WON

    sfn = stack.aws.stepfunctions
    arns = [
        e["executionArn"]
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=stack.aws.state_machine_arn
        )
        for e in page["executions"]
    ]
    histories = [json.dumps(stack.aws.execution_history(a), default=str) for a in arns]
    # Tokens are stored sealed (KMS): the raw table holds none of them.
    table = [
        json.dumps(item, default=str)
        for page in stack.aws.dynamodb.get_paginator("scan").paginate(
            TableName=stack.aws.table_name
        )
        for item in page["Items"]
    ]
    assert any('"refresh_token_sealed"' in item for item in table)
    secrets = _secrets(stack)
    assert len(arns) >= 1 and len(secrets) >= 5  # the scan scans something
    assert captured_logs, "the log capture saw the handlers' log lines"

    for name, corpus in (
        ("execution history", histories),
        ("log", captured_logs),
        ("table item", table),
    ):
        for text in corpus:
            for secret in secrets:
                assert secret not in text, f"a secret leaked into a {name}"
            assert "Bearer " not in text and "Basic " not in text, name

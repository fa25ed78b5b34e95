"""The result check decides from eBay alone, patiently (workflows.settlement).

moto DynamoDB and a scripted getBidding; the clock is the services' ``now``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.support.groups import START, TOKEN, GroupWorld, make_services
from tests.support.table import moto_table
from workflows import postmark
from workflows.models import BidSend, Reason, SendOutcome, Snipe, SnipeStatus
from workflows.notifications import EmailOutcome, NotifyInput, finish_and_notify
from workflows.settlement import CheckResultInput, CheckResultOutput, check_result
from workflows.timing import parse_utc

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[GroupWorld]:
    monkeypatch.setattr(
        "workflows.settlement.user_access_token", lambda *a, **k: (TOKEN, "CACHED")
    )
    with moto_table("settle-unit") as (client, table):
        services, fake = make_services(client, table)
        yield GroupWorld(services=services, ebay=fake)


def _ended(world: GroupWorld, seconds_ago: float) -> Snipe:
    """A claimed snipe (BIDDING: outcome unknown) whose auction ended."""
    return world.claim(world.snipe(None, ends_in=-seconds_ago).snipe_id)


def _check(world: GroupWorld, snipe: Snipe, **kwargs: str) -> CheckResultOutput:
    return check_result(
        world.services, CheckResultInput(snipe_id=snipe.snipe_id, **kwargs)
    )


def test_an_unconfirmed_bid_that_won_is_won(world: GroupWorld) -> None:
    snipe = _ended(world, 5)
    world.ebay.state[snipe.item.item_id] = "WON"
    output = _check(world, snipe)
    assert (output.status, output.settled) == (SnipeStatus.WON, True)
    stored = world.store.get(snipe.snipe_id)
    assert stored.status is SnipeStatus.WON
    assert stored.bid is None  # no send time known: no made-up fire time


def test_the_send_log_gives_the_first_send_as_the_fire_time(world: GroupWorld) -> None:
    snipe = _ended(world, 5)
    first = snipe.plan.fire_at + timedelta(milliseconds=4)
    sends = [
        BidSend(sent_at=first, outcome=SendOutcome.UNKNOWN, detail="ReadTimeout"),
        BidSend(sent_at=first + timedelta(seconds=1), outcome=SendOutcome.UNKNOWN),
    ]
    world.store.record_fields(
        snipe, {"bid_sends": [s.model_dump(mode="json") for s in sends]}
    )
    world.ebay.state[snipe.item.item_id] = "LOST"
    assert _check(world, snipe).status is SnipeStatus.LOST
    bid = world.store.get(snipe.snipe_id).bid
    assert bid is not None and bid.confirmed_by == "GET_BIDDING"
    assert bid.sent_at == first and bid.fire_error_ms == 4.0
    assert bid.attempt == 1 and bid.retries[0].sent_at == sends[1].sent_at


def test_no_bid_at_ebay_after_the_end_is_bid_not_placed(world: GroupWorld) -> None:
    snipe = _ended(world, 5)
    world.ebay.state[snipe.item.item_id] = "NONE"
    output = _check(world, snipe)
    assert (output.status, output.reason) == (SnipeStatus.FAILED, Reason.BID_NOT_PLACED)


def test_unsettled_results_are_rechecked_with_growing_waits(world: GroupWorld) -> None:
    settings = world.services.settings
    for ago, wait in ((1, settings.snipe_recheck_first_seconds), (100, 100)):
        snipe = _ended(world, ago)
        world.ebay.state[snipe.item.item_id] = "ACTIVE"
        output = _check(world, snipe)
        assert output.settled is False and output.status is SnipeStatus.BIDDING
        assert output.recheck_at is not None
        waited = (parse_utc(output.recheck_at) - START).total_seconds()
        assert waited == pytest.approx(wait, abs=0.01)
        assert output.pending_email is False
    far = _ended(world, 10 * 3600)
    world.ebay.state[far.item.item_id] = "DOWN"  # eBay cannot be asked
    output = _check(world, far)
    assert output.settled is False and output.pending_email is True
    assert output.recheck_at is not None
    assert (parse_utc(output.recheck_at) - START).total_seconds() == pytest.approx(
        settings.snipe_recheck_max_seconds, abs=0.01
    )


def test_patience_runs_out_as_result_unknown(world: GroupWorld) -> None:
    snipe = _ended(world, world.services.settings.snipe_result_patience_seconds + 1)
    world.ebay.state[snipe.item.item_id] = "ACTIVE"
    output = _check(world, snipe)
    assert (output.status, output.reason, output.settled) == (
        SnipeStatus.FAILED,
        Reason.RESULT_UNKNOWN,
        True,
    )


def test_an_unclaimed_snipe_is_never_asked_about(world: GroupWorld) -> None:
    snipe = world.snipe(None, ends_in=-5)
    output = _check(world, snipe, execution_name=snipe.snipe_id)
    assert (output.status, output.active_elsewhere) == (SnipeStatus.SCHEDULED, False)
    world.store.transition(
        snipe.snipe_id,
        allowed_from={SnipeStatus.SCHEDULED},
        to=SnipeStatus.SCHEDULED,
        fields={"execution_name": f"{snipe.snipe_id}-v2"},
        user_id=snipe.user_id,
    )
    assert _check(world, snipe, execution_name=snipe.snipe_id).active_elsewhere
    assert world.ebay.calls == []


def test_the_pending_email_is_asked_for_once(world: GroupWorld) -> None:
    later = dataclasses.replace(
        world.services,
        settings=world.services.settings.model_copy(
            update={"snipe_pending_email_after_seconds": 10.0}
        ),
    )
    snipe = _ended(world, 60)
    world.ebay.state[snipe.item.item_id] = "ACTIVE"
    request = CheckResultInput(snipe_id=snipe.snipe_id)
    assert check_result(later, request).pending_email is True
    world.store.claim_pending_notice(
        snipe, {"status": "ATTEMPTED", "at": "2026-01-01T00:00:00Z"}
    )
    assert check_result(later, request).pending_email is False


class _Outbox:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send(self, message: postmark.EmailMessage) -> postmark.SendResult:
        self.sent.append(message.subject)
        if self.fail:
            raise postmark.PostmarkUnavailable("Postmark request timed out")
        return postmark.SendResult(message_id="m-1", submitted_at="now", to="x")


@pytest.mark.parametrize("fail", [False, True])
def test_notify_sends_the_pending_email_at_most_once(
    world: GroupWorld, fail: bool
) -> None:
    outbox = _Outbox(fail=fail)
    services = dataclasses.replace(world.services, postmark=outbox)  # type: ignore[arg-type]
    snipe = _ended(world, 60)
    unsettled = {
        "settled": False,
        "recheck_at": "2026-01-01T00:00:00.000Z",
        "pending_email": True,
    }
    request = NotifyInput.model_validate(
        {"snipe_id": snipe.snipe_id, "result": unsettled}
    )
    first = finish_and_notify(services, request)
    again = finish_and_notify(services, request)  # a retry, or the next round

    assert first.settled is False and first.recheck_at == unsettled["recheck_at"]
    assert first.email is (EmailOutcome.NOT_SENT if fail else EmailOutcome.SENT)
    assert again.email is EmailOutcome.ALREADY_SENT
    assert outbox.sent == [f"Result pending: {snipe.item.title}"]
    assert world.store.get(snipe.snipe_id).status is SnipeStatus.BIDDING

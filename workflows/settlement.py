"""Task ``check_result``: ask eBay what happened, record the truth.

Reached after a bid was placed (*Wait for auction end*) and also whenever the
bid task failed in a way that may have come after the send (*Wait before
checking the outcome*: a lost answer, a crash, a Lambda or state timeout). It
decides from eBay's ``getBidding`` alone:

* ``auctionStatus == ENDED`` and ``highBidder`` -> WON; ENDED otherwise -> LOST
  (the user has a bid on the item, it did not win);
* eBay has no bid from the user (``120033``) after the end -> FAILED
  ``BID_NOT_PLACED`` (``EBAY_UNAVAILABLE`` when the bid task saw eBay fail
  every send) -- a bid that never reached eBay;
* ACTIVE after the end, or eBay cannot be asked (5xx, timeout, 401): not
  settled yet. The output says ``settled: false`` and when to look again
  (``recheck_at``); *Notify user* passes it on (with the one "result pending"
  email when due), the state machine waits and calls again (*patient
  reconciliation*, ``docs/reliability.md``). The wait grows with the time
  since the end, bounded by ``SNIPE_RECHECK_FIRST_SECONDS`` and
  ``SNIPE_RECHECK_MAX_SECONDS``; ``pending_email`` asks for the one "result
  pending" email after ``SNIPE_PENDING_EMAIL_AFTER_SECONDS``; after
  ``SNIPE_RESULT_PATIENCE_SECONDS`` the snipe ends FAILED ``RESULT_UNKNOWN``.

A snipe still SCHEDULED was never claimed, so no bid went out: it is answered as
is (*Notify user* records the failure), or ``active_elsewhere`` when another
execution now owns it. A result already recorded is answered as is: a later
member of a win-N group may have settled this snipe early (``workflows.groups``).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from workflows import ebay
from workflows.errors import (
    EbayReconnectRequired,
    EbayUnavailable,
    TransitionRejected,
)
from workflows.failure_metrics import count_failed
from workflows.models import (
    BID_CLAIMED_STATUSES,
    BidRecord,
    Reason,
    ResultRecord,
    SendOutcome,
    Snipe,
    SnipeStatus,
)
from workflows.money import Money, MoneyView
from workflows.observability import logger, metrics
from workflows.services import Services
from workflows.timing import to_z
from workflows.tokens import user_access_token


class CheckResultInput(BaseModel):
    snipe_id: str
    execution_name: str | None = None


class CheckResultOutput(BaseModel):
    status: SnipeStatus
    reason: Reason | None = None
    final_price: MoneyView | None = None
    bid_count: int | None = None
    # Read by *Notify user* (from ``$.result``): always present.
    settled: bool = True
    recheck_at: str | None = None
    pending_email: bool = False
    active_elsewhere: bool = False


def check_result(services: Services, request: CheckResultInput) -> CheckResultOutput:
    snipe = services.store.get(request.snipe_id)
    if snipe.status is SnipeStatus.SCHEDULED:
        elsewhere = snipe.execution_name not in (None, request.execution_name)
        return CheckResultOutput(status=snipe.status, active_elsewhere=elsewhere)
    if snipe.status not in BID_CLAIMED_STATUSES:  # final already (WON, LOST, ...)
        return _answer(snipe)

    try:
        token, _ = user_access_token(services, snipe, valid_until=services.now())
        bidding: ebay.Bidding | None = services.ebay.get_bidding(
            snipe.item.item_id, token
        )
    except ebay.EbayApiError as exc:
        if exc.error_id != ebay.NO_BIDDING_ACTIVITY:
            logger.warning("getBidding refused", extra={"ebay_error_id": exc.error_id})
            return _not_settled(services, snipe, f"eBay error {exc.error_id}")
        bidding = None
    except ebay.EbayAuthError:
        services.store.forget_access_token(snipe.user_id)
        return _not_settled(services, snipe, "eBay refused the cached token")
    except (ebay.EbayUnavailable, ebay.EbayProtocolError, EbayUnavailable) as exc:
        return _not_settled(services, snipe, type(exc).__name__)
    except EbayReconnectRequired:
        # The user unlinked eBay: the result cannot be read (recorded by the
        # token code: RESULT_UNKNOWN when a bid may be there).
        return _answer(services.store.get(snipe.snipe_id))

    now = services.now()
    if bidding is None:  # eBay has no bid of this user on the item
        if now < snipe.plan.end_at:
            return _not_settled(services, snipe, "no bid yet and not ended")
        return _record_no_bid(services, snipe)
    if bidding.auction_status != "ENDED":
        return _not_settled(services, snipe, f"eBay says {bidding.auction_status}")

    status = SnipeStatus.WON if bidding.won else SnipeStatus.LOST
    final_price = (
        Money.from_decimal(bidding.current_price.value, bidding.current_price.currency)
        if bidding.current_price
        else None
    )
    record = ResultRecord(
        final_price=final_price, bid_count=bidding.bid_count, checked_at=now
    )
    fields: dict[str, object] = {"result": record.model_dump(mode="json")}
    bid = _bid_from_sends(snipe, bidding)
    if bid is not None:
        fields["bid"] = bid.model_dump(mode="json")
    try:
        snipe = services.store.transition(
            snipe.snipe_id,
            allowed_from=BID_CLAIMED_STATUSES,
            to=status,
            fields=fields,
            user_id=snipe.user_id,
        )
    except TransitionRejected as exc:
        if exc.current_status not in (SnipeStatus.WON, SnipeStatus.LOST):
            raise
        # Recorded meanwhile: a later member of its win-N group asked eBay
        # first (workflows.groups). Answer what is recorded.
        return check_result(services, request)
    metrics.add_metric(
        name="SnipesWon" if status is SnipeStatus.WON else "SnipesLost",
        unit="Count",
        value=1,
    )
    logger.info("auction settled", extra={"status": status.value})
    return _answer(snipe)


def _record_no_bid(services: Services, snipe: Snipe) -> CheckResultOutput:
    """After the end eBay shows no bid from the user: the bid never landed."""
    sends = snipe.bid_sends
    unavailable = bool(sends) and all(
        s.outcome is not SendOutcome.REFUSED for s in sends
    )
    reason = Reason.EBAY_UNAVAILABLE if unavailable else Reason.BID_NOT_PLACED
    try:
        snipe = services.store.end(
            snipe, SnipeStatus.FAILED, reason, allowed_from=BID_CLAIMED_STATUSES
        )
    except TransitionRejected:
        return _answer(services.store.get(snipe.snipe_id))
    logger.warning("no bid of ours at eBay", extra={"reason": reason.value})
    count_failed(reason)
    return _answer(snipe)


def _bid_from_sends(snipe: Snipe, bidding: ebay.Bidding) -> BidRecord | None:
    """A bid record for a snipe whose send was never confirmed, from the bid
    task's send log: the first send is the fire time, the rest are retries.
    None when the bid is recorded already or no send time is known (the
    process that sent it died before it could write one)."""
    if snipe.bid is not None or not snipe.bid_sends or not bidding.proxy_bid_id:
        return None
    return BidRecord.from_sends(
        snipe.bid_sends,
        proxy_bid_id=bidding.proxy_bid_id,
        max_bid=snipe.max_bid,
        fire_at=snipe.plan.fire_at,
        confirmed_by="GET_BIDDING",
    )


def _not_settled(services: Services, snipe: Snipe, why: str) -> CheckResultOutput:
    settings = services.settings
    now = services.now()
    since_end = (now - snipe.plan.end_at).total_seconds()
    if since_end >= settings.snipe_result_patience_seconds:
        logger.warning("result still unknown; giving up", extra={"why": why})
        try:
            snipe = services.store.end(
                snipe,
                SnipeStatus.FAILED,
                Reason.RESULT_UNKNOWN,
                allowed_from=BID_CLAIMED_STATUSES,
            )
        except TransitionRejected:
            snipe = services.store.get(snipe.snipe_id)
        return _answer(snipe)
    delay = min(
        settings.snipe_recheck_max_seconds,
        max(settings.snipe_recheck_first_seconds, since_end),
    )
    recheck_at = now + timedelta(seconds=delay)
    logger.info(
        "result not settled yet",
        extra={"why": why, "recheck_at": to_z(recheck_at)},
    )
    return CheckResultOutput(
        status=snipe.status,
        settled=False,
        recheck_at=to_z(recheck_at),
        pending_email=snipe.pending_notice is None
        and since_end >= settings.snipe_pending_email_after_seconds,
    )


def _answer(snipe: Snipe) -> CheckResultOutput:
    price = snipe.result.final_price if snipe.result else None
    return CheckResultOutput(
        status=snipe.status,
        reason=snipe.reason,
        final_price=MoneyView.of(price) if price else None,
        bid_count=snipe.result.bid_count if snipe.result else None,
    )

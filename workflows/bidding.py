"""Task ``place_bid``: claim the snipe, fire the max bid precisely at ``fire_at``.

Sequence: claim (SCHEDULED -> BIDDING; a cancelled snipe is never bid on) ->
re-read the max bid from the claimed record -> make sure a user token is cached ->
wake-time re-check -> a win-N group member takes a group slot or ends SKIPPED
``GROUP_SATISFIED`` (``workflows.groups``) -> open the HTTPS connection to eBay
(getBidding) -> sleep on a monotonic deadline until ``fire_at`` -> placeProxyBid
-> BID_PLACED with the send time and fire error.

eBay's refusals are permanent (FAILED with a reason, ``BidRejected``). Transport
failures and 5xx raise ``BidSendFailed`` while a retry can still land before the
end; otherwise the snipe ends FAILED (``BidWindowMissed``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field

from workflows import ebay, groups
from workflows.errors import (
    BidRejected,
    BidSendFailed,
    BidWindowMissed,
    SnipeNotActive,
    SnipeRescheduled,
    SnipeSkipped,
    TransitionRejected,
)
from workflows.failure_metrics import count_failed
from workflows.models import REASON_TEXT, BidRecord, Reason, Snipe, SnipeStatus
from workflows.money import MoneyView
from workflows.observability import logger, metrics
from workflows.recheck import Verdict, next_execution_name, recheck_listing
from workflows.services import Services
from workflows.timing import (
    SnipePlan,
    monotonic_deadline,
    sleep_until_deadline,
    to_z,
)
from workflows.tokens import user_access_token

# eBay error ids (Buy Offer placeProxyBid) -> our reason codes.
_REJECTIONS: dict[int, Reason] = {
    120001: Reason.ITEM_NOT_FOUND,
    120002: Reason.ENDED_BY_BUY_IT_NOW,
    120005: Reason.BID_ABOVE_BUY_IT_NOW,
    120007: Reason.BID_INVALID,
    120008: Reason.BID_TOO_LOW,
    120009: Reason.CURRENCY_MISMATCH,
    120010: Reason.CANNOT_LOWER_BID,
    120011: Reason.BID_INVALID,
    120012: Reason.AUCTION_ENDED,
    120013: Reason.BID_INVALID,
    120014: Reason.CURRENCY_MISMATCH,
    120018: Reason.BID_INVALID,
}
# Everything else eBay refuses with a 409 is about the buyer's eligibility.
_DEFAULT_REJECTION = Reason.NOT_ELIGIBLE

# A retry waits IntervalSeconds (1 s) in the state machine plus a Lambda start;
# do not ask for one unless it can still land before the end.
RETRY_COST = timedelta(seconds=1.5)
# Below this much time before the end we do not even try.
LAST_CHANCE = timedelta(milliseconds=150)
# An end that moved later is waited for in this invocation when the new wake-up
# time is this close; further out, a new execution takes over.
IN_TASK_RESCHEDULE = timedelta(seconds=5)


class PlaceBidInput(BaseModel):
    snipe_id: str
    execution_name: str = Field(min_length=1)
    attempt: int = 0


class PlaceBidOutput(BaseModel):
    proxy_bid_id: str
    max_bid: MoneyView
    sent_at: AwareDatetime
    fire_error_ms: float
    attempt: int
    settle_at: str = Field(description="when to read the result (UTC ...Z)")


def _claim(services: Services, request: PlaceBidInput) -> Snipe:
    """SCHEDULED -> BIDDING, only by the snipe's current execution.

    The write returns the record it wrote (``ALL_NEW``): the max bid and plan
    used from here on are exactly those in force at the claim. An execution an
    edit or a reschedule replaced (``execution_name`` names another) is refused
    like a cancelled snipe: no bid, it ends quietly.
    """
    try:
        return services.store.transition(
            request.snipe_id,
            allowed_from={SnipeStatus.SCHEDULED},
            to=SnipeStatus.BIDDING,
            claimed_by=request.execution_name,
            current_execution=request.execution_name,
        )
    except TransitionRejected as exc:
        if exc.current_status == SnipeStatus.SCHEDULED.value:
            raise SnipeNotActive(
                "another execution now handles the snipe; no bid was sent"
            ) from exc
        raise SnipeNotActive(f"snipe is {exc.current_status}; no bid was sent") from exc


def _fail(services: Services, snipe: Snipe, reason: Reason) -> None:
    services.store.transition(
        snipe.snipe_id,
        allowed_from={SnipeStatus.BIDDING},
        to=SnipeStatus.FAILED,
        reason=reason,
        user_id=snipe.user_id,
    )
    count_failed(reason)


def place_bid(services: Services, request: PlaceBidInput) -> PlaceBidOutput:
    snipe = _claim(services, request)
    plan = snipe.plan
    now = services.now()
    if now >= plan.end_at - LAST_CHANCE:
        _fail(services, snipe, Reason.BID_WINDOW_MISSED)
        raise BidWindowMissed(Reason.BID_WINDOW_MISSED.value, "too late to bid")

    token, _ = user_access_token(services, snipe, valid_until=plan.settle_at)
    if request.attempt == 0:
        snipe = _recheck(services, snipe, request, now)
        plan = snipe.plan
    # A win-N group member bids only with one of its group's slots.
    snipe = groups.claim_group_slot(services, snipe, token)
    item_id = snipe.item.item_id
    amount = ebay.Amount(
        value=snipe.max_bid.to_decimal(), currency=snipe.max_bid.currency
    )
    if request.attempt > 0:
        # A retried attempt: the previous one may have reached eBay even though
        # we saw no answer. If eBay already holds our max bid, do not bid again.
        existing = _warm_up(services, item_id, token)
        if existing and existing.proxy_bid_id and existing.max_amount == amount:
            return _record_bid(services, snipe, request, existing.proxy_bid_id, now)
    elif plan.fire_at - now > timedelta(milliseconds=500):
        _warm_up(services, item_id, token)

    sleep_until_deadline(monotonic_deadline(plan.fire_at, now=services.now))
    sent_at = services.now()
    try:
        proxy_bid_id = services.ebay.place_proxy_bid(
            item_id, amount, token, timeout=_bid_timeout(plan.end_at, sent_at)
        )
    except ebay.EbayApiError as exc:
        reason = _REJECTIONS.get(exc.error_id or 0, _DEFAULT_REJECTION)
        logger.warning(
            "eBay refused the bid",
            extra={"ebay_error_id": exc.error_id, "reason": reason.value},
        )
        _fail(services, snipe, reason)
        raise BidRejected(reason.value, f"eBay error {exc.error_id}") from exc
    except (ebay.EbayUnavailable, ebay.EbayAuthError, ebay.EbayProtocolError) as exc:
        if isinstance(exc, ebay.EbayAuthError):
            # The cached token is no good: drop it so the retry refreshes.
            services.store.forget_access_token(snipe.user_id)
        if services.now() + RETRY_COST < plan.end_at:
            raise BidSendFailed(
                f"bid not confirmed by eBay ({type(exc).__name__})"
            ) from exc
        _fail(services, snipe, Reason.EBAY_UNAVAILABLE)
        raise BidWindowMissed(
            Reason.EBAY_UNAVAILABLE.value, "eBay did not accept the bid before the end"
        ) from exc

    return _record_bid(services, snipe, request, proxy_bid_id, sent_at)


def _record_bid(
    services: Services,
    snipe: Snipe,
    request: PlaceBidInput,
    proxy_bid_id: str,
    sent_at: datetime,
) -> PlaceBidOutput:
    record = BidRecord(
        proxy_bid_id=proxy_bid_id,
        max_bid=snipe.max_bid,
        sent_at=sent_at,
        fire_error_us=_micros(sent_at - snipe.plan.fire_at),
        attempt=request.attempt,
    )
    services.store.transition(
        snipe.snipe_id,
        allowed_from={SnipeStatus.BIDDING},
        to=SnipeStatus.BID_PLACED,
        fields={"bid": record.model_dump(mode="json")},
        user_id=snipe.user_id,
    )
    metrics.add_metric(name="BidsPlaced", unit="Count", value=1)
    metrics.add_metric(
        name="FireErrorMs", unit="Milliseconds", value=record.fire_error_ms
    )
    logger.info(
        "bid placed",
        extra={"fire_error_ms": record.fire_error_ms, "attempt": request.attempt},
    )
    return PlaceBidOutput(
        proxy_bid_id=proxy_bid_id,
        max_bid=MoneyView.of(snipe.max_bid),
        sent_at=sent_at,
        fire_error_ms=record.fire_error_ms,
        attempt=request.attempt,
        settle_at=to_z(snipe.plan.settle_at),
    )


def _recheck(
    services: Services, snipe: Snipe, request: PlaceBidInput, now: datetime
) -> Snipe:
    """Apply the wake-time re-check; returns the snipe with its current plan."""
    check = recheck_listing(services, snipe, now)
    if check.verdict is Verdict.SKIP and check.reason is not None:
        services.store.transition(
            snipe.snipe_id,
            allowed_from={SnipeStatus.BIDDING},
            to=SnipeStatus.SKIPPED,
            reason=check.reason,
            user_id=snipe.user_id,
        )
        metrics.add_metric(name="SnipesSkipped", unit="Count", value=1)
        raise SnipeSkipped(check.reason.value, REASON_TEXT[check.reason])
    if check.end_at is None:
        return snipe
    settings = services.settings
    plan = SnipePlan.for_auction(
        check.end_at,
        bid_offset_seconds=snipe.bid_offset_seconds,
        lead_seconds=settings.snipe_lead_seconds,
        settle_seconds=settings.snipe_settle_seconds,
    )
    logger.info(
        "auction end moved",
        extra={"from": to_z(snipe.plan.end_at), "to": to_z(plan.end_at)},
    )
    if check.verdict is Verdict.FIRE or plan.wake_at - now <= IN_TASK_RESCHEDULE:
        return services.store.transition(
            snipe.snipe_id,
            allowed_from={SnipeStatus.BIDDING},
            to=SnipeStatus.BIDDING,
            fields={"plan": plan.model_dump(mode="json")},
            user_id=snipe.user_id,
        )
    if services.executions is None:
        raise RuntimeError("STATE_MACHINE_ARN is not configured for rescheduling")
    # Start the successor first: if it cannot start, this execution keeps the
    # snipe and fails loudly instead of leaving it with no execution at all.
    name = next_execution_name(request.execution_name, snipe.snipe_id)
    arn = services.executions.start(
        name,
        {
            "snipe_id": snipe.snipe_id,
            "item_id": snipe.item.item_id,
            "plan": plan.as_execution_input(),
        },
    )
    services.store.transition(
        snipe.snipe_id,
        allowed_from={SnipeStatus.BIDDING},
        to=SnipeStatus.SCHEDULED,
        fields={
            "plan": plan.model_dump(mode="json"),
            "execution_arn": arn,
            "execution_name": name,
        },
        user_id=snipe.user_id,
    )
    raise SnipeRescheduled(f"auction now ends {to_z(plan.end_at)}; continued by {name}")


def _warm_up(
    services: Services, item_id: str, token: ebay.AccessToken
) -> ebay.Bidding | None:
    """Open the TLS connection before the deadline; failures here are not fatal."""
    try:
        return services.ebay.warm_up(item_id, token)
    except ebay.EbayError as exc:
        logger.info("connection warm-up failed", extra={"error": type(exc).__name__})
        return None


def _bid_timeout(end_at: datetime, sent_at: datetime) -> float:
    """Wait for eBay's answer no longer than the auction lasts (bounded 0.5-5 s)."""
    left = (end_at - sent_at).total_seconds()
    return max(0.5, min(5.0, left))


def _micros(delta: timedelta) -> int:
    return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds

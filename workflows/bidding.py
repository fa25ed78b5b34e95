"""Task ``place_bid``: claim the snipe, fire the max bid precisely at ``fire_at``.

Sequence: claim (SCHEDULED -> BIDDING; a cancelled snipe is never bid on) ->
re-read the max bid from the claimed record -> make sure a user token is cached ->
wake-time re-check -> a win-N group member takes a group slot or ends SKIPPED
``GROUP_SATISFIED`` (``workflows.groups``) -> open the HTTPS connection to eBay
(getBidding) -> sleep on a monotonic deadline until ``fire_at`` -> placeProxyBid
-> BID_PLACED with the send time and fire error.

**Truthful outcomes** (``docs/reliability.md``). Timeouts and re-sends fit the
time left (``workflows.bid_policy``). When a send fails, the task asks eBay
(getBidding) whether the bid landed: if it did, the bid is recorded with the
*first* send's time (re-sends are kept apart in ``retries``); only if eBay has
no bid of ours is it sent again, so at most one bid per snipe version reaches
eBay. A failure whose outcome stays unknown raises ``BidOutcomeUnknown``: the
state machine then asks eBay after the end (*Check result*), never reports a
failure on a guess. Only what is known to precede any send, or eBay's own
refusal of the only bid, ends the snipe here (``BidWindowMissed``,
``BidRejected``). A retried attempt (``attempt > 0``: an earlier invocation
may have sent) asks eBay before it sends anything.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from enum import Enum
from typing import NoReturn

from pydantic import AwareDatetime, BaseModel, Field

from workflows import bid_policy, ebay, groups
from workflows.errors import (
    BidOutcomeUnknown,
    BidRejected,
    BidWindowMissed,
    SnipeNotActive,
    SnipeRescheduled,
    SnipeSkipped,
    TransitionRejected,
)
from workflows.executions import execution_input, next_execution_name
from workflows.failure_metrics import count_failed
from workflows.models import (
    REASON_TEXT,
    BidRecord,
    BidSend,
    Reason,
    SendOutcome,
    Snipe,
    SnipeStatus,
)
from workflows.money import MoneyView
from workflows.observability import logger, metrics
from workflows.recheck import Verdict, recheck_listing
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

# eBay answered these without acting on the request.
_UNPROCESSED_STATUSES = frozenset({401, 429})
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
    sent_at: AwareDatetime = Field(description="the first send (the fire time)")
    fire_error_ms: float
    attempt: int = Field(description="re-sends before the bid was confirmed")
    confirmed_by: str = Field(description="RESPONSE or GET_BIDDING")
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
    services.store.end(snipe, SnipeStatus.FAILED, reason)
    count_failed(reason)


class _OnEbay(Enum):
    """What getBidding says about our bid."""

    PRESENT = "PRESENT"  # eBay holds our max bid
    ABSENT = "ABSENT"  # no bid of the user, or another max (not ours)
    UNKNOWN = "UNKNOWN"  # eBay could not be asked


class _Found(BaseModel):
    state: _OnEbay
    proxy_bid_id: str | None = None


def place_bid(services: Services, request: PlaceBidInput) -> PlaceBidOutput:
    snipe = _claim(services, request)
    plan = snipe.plan
    now = services.now()
    retried = request.attempt > 0
    if now >= plan.end_at - LAST_CHANCE:
        if retried:  # an earlier attempt may have sent: ask eBay after the end
            raise BidOutcomeUnknown("a retried attempt woke too late to ask eBay")
        _fail(services, snipe, Reason.BID_WINDOW_MISSED)
        raise BidWindowMissed(Reason.BID_WINDOW_MISSED.value, "too late to bid")

    token, _ = user_access_token(services, snipe, valid_until=plan.settle_at)
    if not retried:
        snipe = _recheck(services, snipe, request, now)
        plan = snipe.plan
    # A win-N group member bids only with one of its group's slots.
    snipe = groups.claim_group_slot(services, snipe, token)
    item_id = snipe.item.item_id
    amount = ebay.Amount(
        value=snipe.max_bid.to_decimal(), currency=snipe.max_bid.currency
    )
    sends = list(snipe.bid_sends)
    if retried:
        # The previous invocation may have reached eBay even though it never
        # recorded an answer: never send before eBay says it has no bid of ours.
        left = (plan.end_at - now).total_seconds()
        found = _on_ebay(services, item_id, token, amount, left)
        if found.state is _OnEbay.PRESENT and found.proxy_bid_id:
            if sends:
                return _record_bid(
                    services, snipe, sends, found.proxy_bid_id, "GET_BIDDING"
                )
            raise BidOutcomeUnknown("eBay holds our bid; its send time is unknown")
        if found.state is not _OnEbay.ABSENT:
            raise BidOutcomeUnknown("could not ask eBay whether an earlier bid landed")
    elif plan.fire_at - now > timedelta(milliseconds=500):
        _warm_up(services, item_id, token)

    sleep_until_deadline(monotonic_deadline(plan.fire_at, now=services.now))
    return _fire(services, snipe, token, amount, sends)


def _fire(
    services: Services,
    snipe: Snipe,
    token: ebay.AccessToken,
    amount: ebay.Amount,
    sends: list[BidSend],
) -> PlaceBidOutput:
    """Send, and on an unconfirmed send ask eBay and maybe send again."""
    end_at = snipe.plan.end_at
    item_id = snipe.item.item_id
    while True:
        sent_at = services.now()
        left = (end_at - sent_at).total_seconds()
        try:
            proxy_bid_id = services.ebay.place_proxy_bid(
                item_id,
                amount,
                token,
                timeout=bid_policy.send_timeout(left, first=not sends),
            )
        except ebay.EbayApiError as exc:
            sends.append(
                BidSend(
                    sent_at=sent_at,
                    outcome=SendOutcome.REFUSED,
                    detail=f"eBay error {exc.error_id}",
                )
            )
            landed = _refused(services, snipe, token, amount, sends, exc)
            return _record_bid(services, snipe, sends, landed, "GET_BIDDING")
        except (
            ebay.EbayUnavailable,
            ebay.EbayAuthError,
            ebay.EbayProtocolError,
        ) as exc:
            outcome = _send_outcome(exc)
            sends.append(BidSend(sent_at=sent_at, outcome=outcome, detail=_detail(exc)))
            logger.warning(
                "bid not confirmed",
                extra={"error": _detail(exc), "outcome": outcome.value},
            )
            if isinstance(exc, ebay.EbayAuthError):
                # The cached token is no good: drop it and get a fresh one.
                services.store.forget_access_token(snipe.user_id)
                try:
                    token, _ = user_access_token(
                        services, snipe, valid_until=snipe.plan.settle_at
                    )
                except Exception as refresh_exc:
                    _give_up(services, snipe, sends, str(refresh_exc), refresh_exc)
        else:
            sends.append(BidSend(sent_at=sent_at, outcome=SendOutcome.ACCEPTED))
            return _record_bid(services, snipe, sends, proxy_bid_id, "RESPONSE")

        # Not confirmed. Ask eBay whether it holds the bid before any re-send.
        left = _left(services, end_at)
        if not bid_policy.may_check(left):
            _give_up(services, snipe, sends, "no time left to ask eBay")
        found = _on_ebay(services, item_id, token, amount, left)
        if found.state is _OnEbay.PRESENT and found.proxy_bid_id:
            return _record_bid(
                services, snipe, sends, found.proxy_bid_id, "GET_BIDDING"
            )
        if found.state is _OnEbay.UNKNOWN and any(
            s.outcome is SendOutcome.UNKNOWN for s in sends
        ):
            _give_up(services, snipe, sends, "eBay could not say whether it has it")
        left = _left(services, end_at)
        if not bid_policy.may_resend(left, len(sends)):
            _give_up(services, snipe, sends, "no time left for a re-send")
        delay = bid_policy.resend_delay(left, len(sends))
        logger.info("sending the bid again", extra={"sends": len(sends), "in_s": delay})
        time.sleep(delay)


def _refused(
    services: Services,
    snipe: Snipe,
    token: ebay.AccessToken,
    amount: ebay.Amount,
    sends: list[BidSend],
    exc: ebay.EbayApiError,
) -> str:
    """eBay refused a send. Definitive only when no earlier send of ours may
    have landed; 120010 (cannot lower) means eBay already holds a bid of the
    user's. Returns our bid's id when eBay holds it; raises otherwise."""
    reason = _REJECTIONS.get(exc.error_id or 0, _DEFAULT_REJECTION)
    logger.warning(
        "eBay refused the bid",
        extra={"ebay_error_id": exc.error_id, "reason": reason.value},
    )
    uncertain = reason is Reason.CANNOT_LOWER_BID or any(
        s.outcome is SendOutcome.UNKNOWN for s in sends[:-1]
    )
    if not uncertain:
        _fail(services, snipe, reason)
        raise BidRejected(reason.value, f"eBay error {exc.error_id}") from exc
    left = _left(services, snipe.plan.end_at)
    found = _on_ebay(services, snipe.item.item_id, token, amount, left)
    if found.state is _OnEbay.PRESENT and found.proxy_bid_id:
        return found.proxy_bid_id
    _give_up(services, snipe, sends, f"eBay error {exc.error_id} after an unknown send")


def _give_up(
    services: Services,
    snipe: Snipe,
    sends: list[BidSend],
    why: str,
    cause: BaseException | None = None,
) -> NoReturn:
    """The outcome stays unknown: keep the send log, let the check decide."""
    try:
        services.store.record_fields(
            snipe, {"bid_sends": [s.model_dump(mode="json") for s in sends]}
        )
    except Exception as exc:  # the check works without the log (no send time)
        logger.warning("send log not written", extra={"error": type(exc).__name__})
    metrics.add_metric(name="BidOutcomesUnknown", unit="Count", value=1)
    raise BidOutcomeUnknown(
        f"bid not confirmed after {len(sends)} send(s): {why}; eBay is asked "
        "after the end"
    ) from cause


def _on_ebay(
    services: Services,
    item_id: str,
    token: ebay.AccessToken,
    amount: ebay.Amount,
    left: float,
) -> _Found:
    try:
        bidding = services.ebay.warm_up(
            item_id, token, timeout=bid_policy.check_timeout(left)
        )
    except ebay.EbayError as exc:
        logger.info("getBidding failed", extra={"error": type(exc).__name__})
        return _Found(state=_OnEbay.UNKNOWN)
    if bidding and bidding.proxy_bid_id and bidding.max_amount == amount:
        return _Found(state=_OnEbay.PRESENT, proxy_bid_id=bidding.proxy_bid_id)
    return _Found(state=_OnEbay.ABSENT)


def _send_outcome(exc: ebay.EbayError) -> SendOutcome:
    if isinstance(exc, ebay.EbayUnavailable) and not exc.request_sent:
        return SendOutcome.NOT_SENT
    if isinstance(exc, ebay.EbayAuthError) or exc.http_status in _UNPROCESSED_STATUSES:
        return SendOutcome.REJECTED_UNPROCESSED
    return SendOutcome.UNKNOWN  # timeout, reset after the write, 5xx, garbled


def _detail(exc: ebay.EbayError) -> str:
    if exc.http_status is not None:
        return f"HTTP {exc.http_status}"
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def _left(services: Services, end_at: datetime) -> float:
    return (end_at - services.now()).total_seconds()


def _record_bid(
    services: Services,
    snipe: Snipe,
    sends: list[BidSend],
    proxy_bid_id: str,
    confirmed_by: str,
) -> PlaceBidOutput:
    """BID_PLACED: the first send is the fire time, the others are retries."""
    record = BidRecord.from_sends(
        sends,
        proxy_bid_id=proxy_bid_id,
        max_bid=snipe.max_bid,
        fire_at=snipe.plan.fire_at,
        confirmed_by=confirmed_by,
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
        extra={
            "fire_error_ms": record.fire_error_ms,
            "retries": record.attempt,
            "confirmed_by": confirmed_by,
        },
    )
    return PlaceBidOutput(
        proxy_bid_id=proxy_bid_id,
        max_bid=MoneyView.of(snipe.max_bid),
        sent_at=record.sent_at,
        fire_error_ms=record.fire_error_ms,
        attempt=record.attempt,
        confirmed_by=confirmed_by,
        settle_at=to_z(snipe.plan.settle_at),
    )


def _recheck(
    services: Services, snipe: Snipe, request: PlaceBidInput, now: datetime
) -> Snipe:
    """Apply the wake-time re-check; returns the snipe with its current plan."""
    check = recheck_listing(services, snipe, now)
    if check.verdict is Verdict.SKIP and check.reason is not None:
        services.store.end(snipe, SnipeStatus.SKIPPED, check.reason)
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
        return services.store.record_fields(
            snipe, {"plan": plan.model_dump(mode="json")}
        )
    if services.executions is None:
        raise RuntimeError("STATE_MACHINE_ARN is not configured for rescheduling")
    # Start the successor first: if it cannot start, this execution keeps the
    # snipe and fails loudly instead of leaving it with no execution at all.
    name = next_execution_name(request.execution_name, snipe.snipe_id)
    arn = services.executions.start(name, execution_input(snipe, plan))
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

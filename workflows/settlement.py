"""Task ``check_result``: ask eBay who won, record WON or LOST.

``getBidding`` after the end: ``auctionStatus == ENDED`` and ``highBidder`` is a
win; ENDED otherwise is a loss with the final price. While eBay still reports
ACTIVE the task raises ``AuctionNotSettled`` and the state machine retries with
backoff. A result already recorded (WON/LOST) is answered as is: a later member
of a win-N group may have settled this snipe early (``workflows.groups``).
"""

from __future__ import annotations

from pydantic import BaseModel

from workflows import ebay
from workflows.errors import AuctionNotSettled, EbayUnavailable, TransitionRejected
from workflows.models import ResultRecord, SnipeStatus
from workflows.money import Money, MoneyView
from workflows.observability import logger, metrics
from workflows.services import Services
from workflows.tokens import user_access_token


class CheckResultInput(BaseModel):
    snipe_id: str


class CheckResultOutput(BaseModel):
    status: SnipeStatus
    final_price: MoneyView | None = None
    bid_count: int | None = None


def check_result(services: Services, request: CheckResultInput) -> CheckResultOutput:
    snipe = services.store.get(request.snipe_id)
    if snipe.status in (SnipeStatus.WON, SnipeStatus.LOST):  # already recorded
        price = snipe.result.final_price if snipe.result else None
        return _output(
            snipe.status, price, snipe.result.bid_count if snipe.result else None
        )

    token, _ = user_access_token(services, snipe, valid_until=services.now())
    try:
        bidding = services.ebay.get_bidding(snipe.item.item_id, token)
    except ebay.EbayUnavailable as exc:
        raise EbayUnavailable("eBay getBidding is unavailable") from exc
    except ebay.EbayAuthError as exc:
        services.store.forget_access_token(snipe.user_id)
        raise EbayUnavailable("eBay refused the cached token; will refresh") from exc
    if bidding.auction_status != "ENDED":
        raise AuctionNotSettled(
            f"eBay reports the auction {bidding.auction_status} after its end"
        )

    status = SnipeStatus.WON if bidding.won else SnipeStatus.LOST
    final_price = (
        Money.from_decimal(bidding.current_price.value, bidding.current_price.currency)
        if bidding.current_price
        else None
    )
    record = ResultRecord(
        final_price=final_price, bid_count=bidding.bid_count, checked_at=services.now()
    )
    try:
        services.store.transition(
            snipe.snipe_id,
            allowed_from={SnipeStatus.BID_PLACED},
            to=status,
            fields={"result": record.model_dump(mode="json")},
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
    return _output(status, final_price, bidding.bid_count)


def _output(
    status: SnipeStatus, price: Money | None, bid_count: int | None
) -> CheckResultOutput:
    return CheckResultOutput(
        status=status,
        final_price=MoneyView.of(price) if price else None,
        bid_count=bid_count,
    )

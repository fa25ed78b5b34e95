"""Wake-time re-check, run by the bid task before it sleeps until ``fire_at``.

The listing is read again (Browse getItem, application token):

* ended early or sold with Buy It Now -> SKIPPED ``ENDED_EARLY``, no bid;
* current price already at or above the max bid -> SKIPPED
  ``OUTBID_BEFORE_FIRE``, no bid (eBay would refuse it as too low);
* end time moved later -> reschedule: within reach of this invocation the task
  simply waits longer; further out, a new execution (``<snipe id>-v<n>``) takes
  over and this one ends;
* end time moved earlier but still ahead -> fire earlier.

If eBay cannot answer, the bid goes ahead as planned (fail open: bidding is what
the user asked for, and eBay itself refuses a bid that cannot win).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from workflows import ebay
from workflows.models import Reason, Snipe
from workflows.money import Money
from workflows.observability import logger
from workflows.services import Services

# eBay's itemEndDate has millisecond precision; ignore sub-second jitter.
END_TOLERANCE = timedelta(seconds=1)


class Verdict(StrEnum):
    FIRE = "FIRE"
    SKIP = "SKIP"
    RESCHEDULE = "RESCHEDULE"


@dataclass(frozen=True)
class Recheck:
    verdict: Verdict
    reason: Reason | None = None
    end_at: datetime | None = None  # the listing's end when it moved


def recheck_listing(services: Services, snipe: Snipe, now: datetime) -> Recheck:
    try:
        item = services.ebay.get_item(ebay.ItemRef("restful", snipe.item.item_id))
    except ebay.EbayItemNotFound:
        return Recheck(Verdict.SKIP, Reason.ENDED_EARLY)
    except ebay.EbayError as exc:
        logger.warning(
            "wake-time re-check failed; bidding as planned",
            extra={"error": type(exc).__name__},
        )
        return Recheck(Verdict.FIRE)

    if item.end_at is not None and item.end_at <= now:
        return Recheck(Verdict.SKIP, Reason.ENDED_EARLY, item.end_at)
    price = item.current_bid_price
    if price is not None and price.currency == snipe.max_bid.currency:
        current = Money.from_decimal(price.value, price.currency)
        if snipe.max_bid <= current:
            return Recheck(Verdict.SKIP, Reason.OUTBID_BEFORE_FIRE)
    planned = snipe.plan.end_at
    if item.end_at is not None and abs(item.end_at - planned) > END_TOLERANCE:
        verdict = Verdict.RESCHEDULE if item.end_at > planned else Verdict.FIRE
        return Recheck(verdict, end_at=item.end_at)
    return Recheck(Verdict.FIRE)

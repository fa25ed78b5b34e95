"""A user's sniping statistics, per currency (``GET /api/stats``).

Computed from all the user's snipes (GSI1, page after page), grouped by the
currency of their max bid:

* counts by outcome: WON, LOST, SKIPPED, FAILED, CANCELLED, and ``active``
  (SCHEDULED, BIDDING, BID_PLACED);
* total spent: the sum of the final prices of WON snipes;
* savings on wins: the sum of (max bid - final price) over WON snipes, the max
  bid being the one the bid was placed with;
* fire error (``sent_at - fire_at``) over the snipes that sent a bid: average
  and 95th percentile (nearest rank), in milliseconds.

A WON snipe whose final price eBay did not report counts as a win but adds
nothing to the sums (``priced_wins`` says how many wins the sums cover).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from workflows.models import ACTIVE_STATUSES, Snipe, SnipeStatus
from workflows.money import Money
from workflows.services import Services

OUTCOMES = (
    SnipeStatus.WON,
    SnipeStatus.LOST,
    SnipeStatus.SKIPPED,
    SnipeStatus.FAILED,
    SnipeStatus.CANCELLED,
)
ACTIVE = "active"


@dataclass(frozen=True)
class FireErrorStats:
    count: int
    average_ms: float | None
    p95_ms: float | None

    @classmethod
    def of(cls, errors_us: list[int]) -> FireErrorStats:
        if not errors_us:
            return cls(count=0, average_ms=None, p95_ms=None)
        ordered = sorted(errors_us)
        rank = math.ceil(0.95 * len(ordered))  # nearest rank, 1-based
        return cls(
            count=len(ordered),
            average_ms=round(sum(ordered) / len(ordered) / 1000, 3),
            p95_ms=round(ordered[rank - 1] / 1000, 3),
        )


@dataclass(frozen=True)
class CurrencyStats:
    currency: str
    counts: dict[str, int]
    total_spent: Money
    savings_on_wins: Money
    priced_wins: int
    fire_error: FireErrorStats


@dataclass
class _Tally:
    counts: dict[str, int] = field(
        default_factory=lambda: {**{s.value: 0 for s in OUTCOMES}, ACTIVE: 0}
    )
    spent_minor: int = 0
    savings_minor: int = 0
    priced_wins: int = 0
    fire_errors_us: list[int] = field(default_factory=list)

    def add(self, snipe: Snipe) -> None:
        if snipe.status in ACTIVE_STATUSES:
            self.counts[ACTIVE] += 1
        else:
            self.counts[snipe.status.value] += 1
        if snipe.bid is not None:
            self.fire_errors_us.append(snipe.bid.fire_error_us)
        if snipe.status is SnipeStatus.WON:
            self._add_win(snipe)

    def _add_win(self, snipe: Snipe) -> None:
        price = snipe.result.final_price if snipe.result else None
        max_bid = snipe.bid.max_bid if snipe.bid else snipe.max_bid
        if price is None or price.currency != max_bid.currency:
            return
        self.priced_wins += 1
        self.spent_minor += price.amount_minor
        # eBay never charges more than the max bid; never count a negative saving.
        self.savings_minor += max(0, max_bid.amount_minor - price.amount_minor)


def compute_stats(snipes: Iterable[Snipe]) -> list[CurrencyStats]:
    """Statistics per currency, currencies in alphabetical order."""
    tallies: dict[str, _Tally] = {}
    for snipe in snipes:
        tallies.setdefault(snipe.max_bid.currency, _Tally()).add(snipe)
    return [
        CurrencyStats(
            currency=currency,
            counts=dict(tally.counts),
            total_spent=Money(amount_minor=tally.spent_minor, currency=currency),
            savings_on_wins=Money(amount_minor=tally.savings_minor, currency=currency),
            priced_wins=tally.priced_wins,
            fire_error=FireErrorStats.of(tally.fire_errors_us),
        )
        for currency, tally in sorted(tallies.items())
    ]


def user_stats(services: Services, user_id: str) -> list[CurrencyStats]:
    return compute_stats(services.store.iter_for_user(user_id))

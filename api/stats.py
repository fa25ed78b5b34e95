"""``GET /api/stats``: the caller's sniping statistics per currency
(``workflows.stats``)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field

from api import examples
from api.params import AppServices, CallerIdentity
from api.responses import json_response
from api.routes import Routes
from workflows import stats
from workflows.money import MoneyView

router = Router()  # type: ignore[no-untyped-call]  # untyped __init__
route = Routes(router, "stats")


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutcomeCountsView(_View):
    WON: int
    LOST: int
    SKIPPED: int
    FAILED: int
    CANCELLED: int
    active: int = Field(description="SCHEDULED, BIDDING or BID_PLACED")


class FireErrorView(_View):
    """``sent_at - fire_at`` over the snipes that sent a bid, in milliseconds."""

    count: int = Field(description="Snipes with a bid")
    average: float | None = Field(description="Mean; null without bids")
    p95: float | None = Field(description="95th percentile (nearest rank)")


class CurrencyStatsView(_View):
    currency: str = Field(examples=["USD"])
    counts: OutcomeCountsView
    total_spent: MoneyView = Field(description="Sum of the final prices of wins")
    savings_on_wins: MoneyView = Field(
        description="Sum of (max bid - final price) over wins"
    )
    priced_wins: int = Field(
        description="Wins with a known final price (the ones the sums cover)"
    )
    fire_error_ms: FireErrorView

    @classmethod
    def of(cls, data: stats.CurrencyStats) -> CurrencyStatsView:
        return cls(
            currency=data.currency,
            counts=OutcomeCountsView.model_validate(data.counts),
            total_spent=MoneyView.of(data.total_spent),
            savings_on_wins=MoneyView.of(data.savings_on_wins),
            priced_wins=data.priced_wins,
            fire_error_ms=FireErrorView(
                count=data.fire_error.count,
                average=data.fire_error.average_ms,
                p95=data.fire_error.p95_ms,
            ),
        )


class StatsView(_View):
    currencies: list[CurrencyStatsView] = Field(
        description="One entry per currency you bid in, alphabetical"
    )


@route(
    "GET",
    "/api/stats",
    operation_id="getStats",
    summary="Your sniping statistics",
    description=(
        "Per currency of the max bid: counts by outcome, total spent on wins,"
        " savings on wins (max bid - final price) and the fire error (average"
        " and p95, ms) of the bids sent."
    ),
    ok=json_response("Statistics per currency", StatsView, examples.STATS_EXAMPLES),
)
def get_stats(identity: CallerIdentity, services: AppServices) -> StatsView:
    return StatsView(
        currencies=[
            CurrencyStatsView.of(c)
            for c in stats.user_stats(services, identity.user_id)
        ]
    )

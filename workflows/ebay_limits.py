"""How much of eBay's call limits the application has used (issue 14).

eBay does not publish the Offer API's daily limit (docs/scaling.md); its
Developer Analytics API reports every limit of the application at run time.
:func:`publish_call_limits` reads that report and publishes, in the Powertools
metrics namespace:

* ``EbayCallLimitUsedPercent`` with dimension ``Api`` (the report's resource
  name, e.g. ``buy.browse``): the used share of that resource's daily limit
  (the dashboard's widget);
* ``EbayCallLimitMaxUsedPercent``: the largest of them, which the
  ``EbayCallLimitAlarm`` of ``template.yaml`` watches (80 %).

Only daily windows (``timeWindow`` of at least one day) are counted: shorter
windows refill on their own and a burst against them is a 429 that the state
machine retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from workflows.ebay import RateLimit
from workflows.observability import logger, metrics
from workflows.services import Services

DAY_SECONDS = 86_400
USED_METRIC = "EbayCallLimitUsedPercent"
MAX_USED_METRIC = "EbayCallLimitMaxUsedPercent"


@dataclass(frozen=True)
class LimitUse:
    api: str
    limit: int
    remaining: int

    @property
    def used_percent(self) -> float:
        used = max(0, self.limit - self.remaining)
        return round(100.0 * used / self.limit, 2)


@dataclass
class LimitsReport:
    apis: list[LimitUse] = field(default_factory=list)

    @property
    def max_used_percent(self) -> float:
        return max((use.used_percent for use in self.apis), default=0.0)


def daily_uses(rates: list[RateLimit]) -> list[LimitUse]:
    """The most used daily rate of each resource (limits of 0 are skipped)."""
    worst: dict[str, LimitUse] = {}
    for rate in rates:
        if rate.time_window_seconds < DAY_SECONDS or rate.limit <= 0:
            continue
        use = LimitUse(api=rate.resource, limit=rate.limit, remaining=rate.remaining)
        current = worst.get(use.api)
        if current is None or use.used_percent > current.used_percent:
            worst[use.api] = use
    return sorted(worst.values(), key=lambda use: use.api)


def publish_call_limits(services: Services) -> LimitsReport:
    """Read eBay's rate-limit report and publish the metrics (see module doc)."""
    report = LimitsReport(apis=daily_uses(services.ebay.get_rate_limits()))
    for use in report.apis:
        with single_metric(
            name=USED_METRIC,
            unit=MetricUnit.Percent,
            value=use.used_percent,
            namespace=_namespace(),
        ) as metric:
            metric.add_dimension(name="service", value=metrics.service or "snipe")
            metric.add_dimension(name="Api", value=use.api)
    metrics.add_metric(
        name=MAX_USED_METRIC, unit=MetricUnit.Percent, value=report.max_used_percent
    )
    logger.info(
        "eBay call limits",
        extra={
            "max_used_percent": report.max_used_percent,
            "apis": {use.api: use.used_percent for use in report.apis},
        },
    )
    return report


def _namespace() -> str:
    # Set on AWS (template.yaml) and in the sandbox; code run without it (unit
    # tests of the use cases) still gets a valid document.
    return str(metrics.namespace or "Sniper")

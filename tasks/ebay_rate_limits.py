"""Scheduled Lambda: publish how much of eBay's daily call limits is used.

EventBridge invokes it every ``EbayRateLimitSchedule`` (``template.yaml``);
``workflows.ebay_limits.publish_call_limits`` does the work. An eBay outage
raises (the function's Errors alarm); the next run publishes again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.ebay_limits import publish_call_limits
from workflows.observability import logger, metrics
from workflows.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = publish_call_limits(get_services())
    return {
        "max_used_percent": report.max_used_percent,
        "apis": {use.api: use.used_percent for use in report.apis},
    }

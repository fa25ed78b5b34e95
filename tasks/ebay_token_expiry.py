"""Scheduled Lambda (daily): warn users whose eBay authorization expires soon.

EventBridge invokes it once a day (``EbayTokenExpiryFunction`` in
``template.yaml``); ``workflows.linking.warn_expiring_links`` does the work.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from workflows.linking import warn_expiring_links
from workflows.observability import logger, metrics
from workflows.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(warn_expiring_links(get_services()))

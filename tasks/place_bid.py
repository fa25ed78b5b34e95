"""Task Lambda: claim the snipe and fire the max bid precisely at fire_at."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.bidding import PlaceBidInput, place_bid
from workflows.observability import logger, metrics
from workflows.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PlaceBidInput.model_validate(event)
    return place_bid(get_services(), request).model_dump(mode="json")

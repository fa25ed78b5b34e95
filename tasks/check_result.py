"""Task Lambda: read the auction's outcome from eBay and record WON or LOST."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.observability import logger, metrics
from workflows.redrive import RecheckInput, recheck_unknown_result
from workflows.services import get_services
from workflows.settlement import CheckResultInput, check_result

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("recheck_unknown"):  # Check result after failure (redrivable)
        recheck = RecheckInput.model_validate(event)
        return recheck_unknown_result(get_services(), recheck).model_dump(mode="json")
    request = CheckResultInput.model_validate(event)
    return check_result(get_services(), request).model_dump(mode="json")

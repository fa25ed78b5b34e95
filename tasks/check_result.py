"""Task Lambda: read the auction's outcome from eBay and record WON or LOST."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from workflows.observability import logger, metrics, tracer
from workflows.services import get_services
from workflows.settlement import CheckResultInput, check_result


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CheckResultInput.model_validate(event)
    return check_result(get_services(), request).model_dump(mode="json")

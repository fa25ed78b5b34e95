"""Task Lambda: make sure a final status is recorded and email the user."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from workflows.notifications import NotifyInput, finish_and_notify
from workflows.observability import logger, metrics, tracer
from workflows.services import get_services


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = NotifyInput.model_validate(event)
    return finish_and_notify(get_services(), request).model_dump(mode="json")

"""Task Lambda: make sure a final status is recorded and email the user.

While the result is not settled (``$.result.settled`` false) it sends at most
one "result pending" email instead and the state machine checks again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.notifications import NotifyInput, finish_and_notify
from workflows.observability import logger, metrics
from workflows.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = NotifyInput.model_validate(event)
    return finish_and_notify(get_services(), request).model_dump(mode="json")

"""Task Lambda: make sure a final status is recorded and email the user.

With ``pending: true`` (state *Tell user the result is pending*) it sends the
one "result pending" email instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.notifications import NotifyInput, finish_and_notify, notify_pending
from workflows.observability import logger, metrics
from workflows.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = NotifyInput.model_validate(event)
    if request.pending:
        return notify_pending(get_services(), request.snipe_id).model_dump(mode="json")
    return finish_and_notify(get_services(), request).model_dump(mode="json")

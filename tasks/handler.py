"""The shape every state machine task Lambda has: parse the state's input into
the use case's model, run the use case with the process' services, and return
its result as JSON. Powertools logs with the snipe id as correlation id and
flushes the task's metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from workflows.observability import logger, metrics
from workflows.services import Services, get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

In = TypeVar("In", bound=BaseModel)
Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]


def task_handler(
    model: type[In], use_case: Callable[[Services, In], BaseModel]
) -> Handler:
    """The Lambda handler that runs ``use_case`` on the event as ``model``."""

    @logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = model.model_validate(event)
        return use_case(get_services(), request).model_dump(mode="json")

    return lambda_handler

"""Task Lambda: make sure the user's eBay access token is fresh (output has none)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from workflows.observability import logger, metrics
from workflows.services import get_services
from workflows.tokens import refresh_for_snipe

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class RefreshTokenInput(BaseModel):
    snipe_id: str


@logger.inject_lambda_context(correlation_id_path="snipe_id", clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RefreshTokenInput.model_validate(event)
    return refresh_for_snipe(get_services(), request.snipe_id).model_dump(mode="json")

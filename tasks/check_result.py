"""Task Lambda: read the auction's outcome from eBay and record WON or LOST."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasks.handler import task_handler
from workflows.redrive import RecheckInput, recheck_unknown_result
from workflows.settlement import CheckResultInput, check_result

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

_check = task_handler(CheckResultInput, check_result)
_recheck = task_handler(RecheckInput, recheck_unknown_result)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check result, or Check result after failure (``recheck_unknown``: the
    redrivable state, workflows/redrive.py)."""
    if event.get("recheck_unknown"):
        return _recheck(event, context)
    return _check(event, context)

"""Task Lambda: read the auction's outcome from eBay and record WON or LOST."""

from __future__ import annotations

from tasks.handler import task_handler
from workflows.settlement import CheckResultInput, check_result

lambda_handler = task_handler(CheckResultInput, check_result)

"""Task Lambda: make sure a final status is recorded and email the user.

With ``pending: true`` (state *Tell user the result is pending*) it sends the
one "result pending" email instead.
"""

from __future__ import annotations

from pydantic import BaseModel

from tasks.handler import task_handler
from workflows.notifications import NotifyInput, finish_and_notify, notify_pending
from workflows.services import Services


def _notify(services: Services, request: NotifyInput) -> BaseModel:
    if request.pending:
        return notify_pending(services, request.snipe_id)
    return finish_and_notify(services, request)


lambda_handler = task_handler(NotifyInput, _notify)

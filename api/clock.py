"""The request's one "now": the ``X-Server-Time`` header and the ``server_time``
fields of the body are the same instant.

``api.app.lambda_handler`` takes the time once (from the services' clock, so
tests can control it) and routes read it with ``request_now``.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime

from workflows.services import Services

_NOW: ContextVar[datetime | None] = ContextVar("request_now", default=None)


def request_now(services: Services) -> datetime:
    moment = _NOW.get()
    return moment if moment is not None else services.now()


def set_request_now(moment: datetime | None) -> object:
    return _NOW.set(moment)


def reset_request_now(token: object) -> None:
    _NOW.reset(token)  # type: ignore[arg-type]  # the Token set_request_now gave

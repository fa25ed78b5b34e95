"""Request body size limit: 413 ``PAYLOAD_TOO_LARGE`` before a body is parsed.

The limit is ``Settings.max_request_body_bytes`` (``MAX_REQUEST_BODY_BYTES``,
16 KiB by default; a create body is well under 1 KiB), read per request like the
CORS origins. It is enforced in two places because Powertools' request
validation parses a route's body before any middleware runs:

* ``json_deserializer`` is the resolver's ``json_body_deserializer``: routes
  that take a body check its size here, before ``json.loads``;
* ``middleware`` (a global middleware) checks every other request, including
  unknown routes and CORS preflights, before anything else of ours runs.

Either raises ``PayloadTooLarge``, which the exception map (``api.errors``)
turns into the one error shape. Sizes are in bytes of the decoded body; a
base64 body is measured without decoding it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayRestResolver,
    Response,
)
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from api.requests import parse_json
from workflows.errors import DomainError
from workflows.observability import logger

DEFAULT_MAX_BODY_BYTES = 16 * 1024


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


def body_size(event: BaseProxyEvent) -> int:
    """Bytes of the request body as the API would read it (base64 decoded)."""
    body = event.body
    if not body:
        return 0
    if event.is_base64_encoded:
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body.encode("utf-8"))


class BodySizeLimit:
    """Both enforcement points, sharing one configured limit."""

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit = limit

    def limit(self) -> int:
        try:
            return self._limit()
        except Exception:  # configuration unavailable: still refuse large bodies
            logger.exception("body size limit unavailable; using the default")
            return DEFAULT_MAX_BODY_BYTES

    def check(self, size: int) -> None:
        limit = self.limit()
        if size > limit:
            logger.info(
                "request body too large", extra={"size_bytes": size, "limit": limit}
            )
            raise PayloadTooLarge(
                f"the request body is larger than {limit} bytes",
                details={"limit_bytes": limit, "size_bytes": size},
            )

    def json_deserializer(self, text: str) -> Any:
        self.check(len(text.encode("utf-8")))
        return parse_json(text)

    def middleware(
        self, app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        self.check(body_size(app.current_event))
        return next_middleware(app)

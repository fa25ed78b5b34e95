"""CORS for the configured origins, read when a request arrives (not at import).

Powertools' ``CORSConfig`` takes its origins when the resolver is built, i.e. at
import time. This subclass asks a callable instead (``Settings.cors_origins``,
from ``CORS_ALLOWED_ORIGINS``), so importing ``api.app`` reads no environment.

Only exact origins are honoured: the response echoes the caller's origin when it
is listed and adds no CORS header otherwise. ``*`` is never sent, and no
credentials header either (the API authenticates with a bearer token, not
cookies). ``Vary: Origin`` keeps caches from mixing origins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aws_lambda_powertools.event_handler.api_gateway import CORSConfig

from workflows.observability import logger

# The one source of the CORS header lists: the API function's responses use
# them, the sandbox's gateway responses too, and tests/unit/test_gateway_parity
# checks that template.yaml's GatewayResponses carry exactly these values.
ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
EXPOSE_HEADERS = ["Location", "Retry-After", "X-Server-Time"]
MAX_AGE_SECONDS = 600


def allow_headers_value() -> str:
    return ",".join(ALLOW_HEADERS)


def expose_headers_value() -> str:
    return ",".join(EXPOSE_HEADERS)


class ConfiguredOriginsCORS(CORSConfig):
    def __init__(self, origins: Callable[[], Sequence[str]]) -> None:
        super().__init__(
            allow_origin="",  # unused: the methods below decide
            allow_headers=ALLOW_HEADERS,
            expose_headers=EXPOSE_HEADERS,
            max_age=MAX_AGE_SECONDS,
            allow_credentials=False,
        )
        self._origins = origins

    def _allows(self, origin: str | None) -> bool:
        if not origin or origin == "*":
            return False
        try:
            return origin in self._origins()
        except Exception:  # a broken configuration must not break the response
            logger.exception("CORS origins unavailable")
            return False

    def allowed_origin(self, extracted_origin: str) -> str | None:
        return extracted_origin if self._allows(extracted_origin) else None

    def to_dict(self, origin: str | None) -> dict[str, str]:
        if origin is None or not self._allows(origin):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": allow_headers_value(),
            "Access-Control-Expose-Headers": expose_headers_value(),
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
            "Vary": "Origin",
        }

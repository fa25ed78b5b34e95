"""Security headers on every response of the API Lambda.

``with_security_headers`` is applied to the proxy response that
``api.app.lambda_handler`` returns, so it covers what no Powertools middleware
sees: responses built by exception handlers, unknown routes (404) and CORS
preflights. A same-named header set by a route is replaced (in any letter case).
API Gateway's own responses (authorizer 401, throttling 429, WAF 403, 5xx) get
the same headers from ``GatewayResponses`` in ``template.yaml``.

The API serves JSON only, so the policy is the strictest one: nothing may be
loaded, framed or cached, and browsers must not guess content types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from workflows.timing import to_z

SERVER_TIME_HEADER: Final = "X-Server-Time"

SECURITY_HEADERS: Final[dict[str, str]] = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
_NAMES: Final = frozenset(name.lower() for name in SECURITY_HEADERS)


def with_security_headers(response: dict[str, Any]) -> dict[str, Any]:
    """Add the headers to a proxy response (``multiValueHeaders`` if it has them)."""
    for key in ("headers", "multiValueHeaders"):
        existing = response.get(key)
        if isinstance(existing, dict):
            response[key] = {
                name: value
                for name, value in existing.items()
                if name.lower() not in _NAMES
            }
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict):
        multi.update({name: [value] for name, value in SECURITY_HEADERS.items()})
    else:
        response["headers"] = {**(response.get("headers") or {}), **SECURITY_HEADERS}
    return response


def with_server_time(response: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Add ``X-Server-Time`` (the server's clock, UTC, milliseconds)."""
    value = to_z(now)
    multi = response.get("multiValueHeaders")
    if isinstance(multi, dict) and multi:
        multi[SERVER_TIME_HEADER] = [value]
    else:
        response["headers"] = {
            **(response.get("headers") or {}),
            SERVER_TIME_HEADER: value,
        }
    return response

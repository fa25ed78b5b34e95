"""API Gateway's own responses, as ``template.yaml``'s GatewayResponses give them.

When API Gateway itself answers (the Cognito authorizer refuses a token, a
path outside the API, a body above its 10 MB limit, throttling, a failing or
timed-out Lambda), the Lambda never runs: the body comes from the
``DEFAULT_4XX``/``DEFAULT_5XX`` templates and the headers from their
response parameters. The local gateway (``sandbox.local_api``) answers the
same way; ``tests/unit/test_gateway_parity.py`` derives the expected
responses from ``template.yaml`` and compares.

* body: ``{"error": {"code": <responseType>, "message": <message>,
  "details": {}}}``;
* CORS: ``Access-Control-Allow-Origin`` is the configured origin when there is
  exactly one and ``*`` otherwise (a static gateway response cannot echo the
  caller's origin), plus the allow/expose header lists of ``api.cors``;
* the security headers of ``api.security_headers`` except
  Content-Security-Policy (a static header value cannot carry its quotes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from api.cors import allow_headers_value, expose_headers_value
from api.models import ErrorResponse
from api.security_headers import SECURITY_HEADERS

# API Gateway's largest request payload.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
GATEWAY_SECURITY_HEADERS = {
    name: value
    for name, value in SECURITY_HEADERS.items()
    if name != "Content-Security-Policy"
}


@dataclass(frozen=True)
class GatewayError:
    """One of API Gateway's response types (``$context.error.responseType``)."""

    status: int
    response_type: str
    message: str


UNAUTHORIZED = GatewayError(401, "UNAUTHORIZED", "Unauthorized")
MISSING_AUTHENTICATION_TOKEN = GatewayError(
    403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"
)
REQUEST_TOO_LARGE = GatewayError(413, "REQUEST_TOO_LARGE", "Request Too Long")
THROTTLED = GatewayError(429, "THROTTLED", "Too Many Requests")
INTEGRATION_FAILURE = GatewayError(502, "INTEGRATION_FAILURE", "Internal server error")
INTEGRATION_TIMEOUT = GatewayError(
    504, "INTEGRATION_TIMEOUT", "Endpoint request timed out"
)


def gateway_headers(origins: Sequence[str]) -> dict[str, str]:
    """The headers DEFAULT_4XX/DEFAULT_5XX add, for the configured origins."""
    origin = origins[0] if len(origins) == 1 else "*"
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Headers": allow_headers_value(),
        "Access-Control-Expose-Headers": expose_headers_value(),
        **GATEWAY_SECURITY_HEADERS,
    }


def gateway_body(error: GatewayError) -> str:
    return json.dumps(ErrorResponse.body(error.response_type, error.message))

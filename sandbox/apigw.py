"""API Gateway REST (v1) proxy events and Lambda contexts, built in one place.

The local API (``sandbox.local_api``), the engine's Lambda invoke hook
(``sandbox.engine``), the benchmarks (``bench``) and the tests
(``tests.support.apigw``) all call our handlers in-process with these:

* ``proxy_event``: what API Gateway sends the API Lambda for ``/api/{proxy+}``,
  with the Cognito authorizer's claims in ``requestContext.authorizer.claims``;
* ``LambdaContext``: every attribute of the real context that Powertools reads
  (``Logger.inject_lambda_context``, ``Metrics``), and the remaining time from
  the function's timeout on a monotonic clock (not enforced).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

ACCOUNT_ID = "123456789012"
API_FUNCTION = "ApiFunction"
API_RESOURCE = "/api/{proxy+}"


def lambda_arn(function_name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"


class LambdaContext:
    """The Lambda context passed to handlers."""

    def __init__(
        self,
        *,
        function_name: str = API_FUNCTION,
        function_arn: str | None = None,
        memory_limit_in_mb: int = 512,
        timeout_seconds: float = 15.0,
        function_version: str = "$LATEST",
        log_stream_name: str = "local",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = function_arn or lambda_arn(function_name)
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout (not enforced)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def proxy_event(
    method: str,
    path: str,
    *,
    stage: str,
    api_id: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    query: Mapping[str, Sequence[str]] | None = None,
    body: str | None = None,
    claims: Mapping[str, Any] | None = None,
    identity: Mapping[str, str] | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """The REST proxy event for ``method path``; ``claims=None``: no authorizer.

    ``headers`` are (name, value) pairs, a name may repeat (the single-value
    map keeps its last value); ``query`` maps a name to its values (the
    single-value map keeps the first).
    """
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query = {k: list(v) for k, v in (query or {}).items() if v}
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id or stage,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourcePath": API_RESOURCE,
        "stage": stage,
        "identity": dict(identity or {"sourceIp": "127.0.0.1"}),
    }
    if resource_id is not None:
        context["resourceId"] = resource_id
    if claims is not None:
        context["authorizer"] = {"claims": {k: str(v) for k, v in claims.items()}}
    proxy = path.removeprefix("/api/") if path.startswith("/api/") else path
    return {
        "resource": API_RESOURCE,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[0] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": proxy},
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


def cognito_claims(sub: str, email: str) -> dict[str, str]:
    """The ID token claims the Cognito authorizer passes on."""
    return {
        "sub": sub,
        "email": email,
        "email_verified": "true",
        "token_use": "id",  # the token's kind, not a token  # nosec B105
        "cognito:username": sub,
    }

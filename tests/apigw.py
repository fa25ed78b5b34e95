"""API Gateway REST (v1) proxy events for the API Lambda, and a way to call it.

``api_event`` builds what API Gateway sends for ``/api/{proxy+}`` with the
Cognito authorizer's claims in ``requestContext.authorizer.claims``;
``call`` runs ``api.app.lambda_handler`` (with its Powertools decorators) and
returns ``(status, headers, json_body)``, header names lower-cased.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_USER = ("user-a", "a@example.com")
USER_B = ("user-b", "b@example.com")


def api_event(
    method: str,
    path: str,
    *,
    user: tuple[str, str] | None = DEFAULT_USER,
    body: Any = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The proxy event for ``method path``; ``user=None`` means no claims.

    ``body`` is sent as JSON unless it is already a string (sent verbatim).
    """
    all_headers = {"Accept": "application/json"}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "testapi",
        "httpMethod": method,
        "path": f"/test{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourceId": "abc123",
        "resourcePath": "/api/{proxy+}",
        "stage": "test",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "pytest"},
    }
    if user is not None:
        sub, email = user
        context["authorizer"] = {
            "claims": {
                "sub": sub,
                "email": email,
                "email_verified": "true",
                "token_use": "id",
                "cognito:username": sub,
            }
        }
    return {
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()}
        if query
        else None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "stageVariables": None,
        "requestContext": context,
        "body": raw_body,
        "isBase64Encoded": False,
    }


@dataclass
class LambdaContext:
    """The attributes Powertools' Logger reads from a Lambda context."""

    function_name: str = "ApiFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    )
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/ApiFunction"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke the API Lambda; returns (status, headers, parsed JSON body or None)."""
    from api.app import lambda_handler

    result = lambda_handler(event, LambdaContext())
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(str(v) for v in values)
    raw = result.get("body")
    body = json.loads(raw) if raw else None
    return int(result["statusCode"]), headers, body

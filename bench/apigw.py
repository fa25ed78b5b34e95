"""API Gateway REST (v1) proxy events for calling the API Lambda in-process,
with the Cognito authorizer's claims where API Gateway puts them
(``sandbox.apigw``'s builders, as the local API and the tests use them)."""

from __future__ import annotations

import json
from typing import Any

from sandbox.apigw import LambdaContext, cognito_claims, proxy_event


def api_event(method: str, path: str, *, user: str, body: Any = None) -> dict[str, Any]:
    headers = [("Accept", "application/json")]
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    return proxy_event(
        method,
        path,
        stage="bench",
        headers=headers,
        body=None if body is None else json.dumps(body),
        claims=cognito_claims(user, f"{user}@example.com"),
    )


def call_api(event: dict[str, Any]) -> tuple[int, Any]:
    """Run ``api.app.lambda_handler``; (status, parsed JSON body)."""
    from api.app import lambda_handler

    result = lambda_handler(event, LambdaContext(log_stream_name="bench"))
    raw = result.get("body")
    return int(result["statusCode"]), json.loads(raw) if raw else None

"""API Gateway REST (v1) proxy events for calling the API Lambda in-process,
with the Cognito authorizer's claims where API Gateway puts them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "ApiFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/ApiFunction"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


def api_event(method: str, path: str, *, user: str, body: Any = None) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "httpMethod": method,
            "path": f"/bench{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "resourcePath": "/api/{proxy+}",
            "stage": "bench",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {
                "claims": {
                    "sub": user,
                    "email": f"{user}@example.com",
                    "email_verified": "true",
                    "token_use": "id",
                }
            },
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def call_api(event: dict[str, Any]) -> tuple[int, Any]:
    """Run ``api.app.lambda_handler``; (status, parsed JSON body)."""
    from api.app import lambda_handler

    result = lambda_handler(event, LambdaContext())
    raw = result.get("body")
    return int(result["statusCode"]), json.loads(raw) if raw else None

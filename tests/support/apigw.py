"""API Gateway REST (v1) proxy events for the API Lambda, and a way to call it.

``api_event`` builds what API Gateway sends for ``/api/{proxy+}`` with the
Cognito authorizer's claims in ``requestContext.authorizer.claims``;
``call`` runs ``api.app.lambda_handler`` (with its Powertools decorators) and
returns ``(status, headers, json_body)``, header names lower-cased. Both are
``sandbox.apigw``'s builders, as the local API and the benchmarks use them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.test import Client

from sandbox.apigw import LambdaContext, cognito_claims, proxy_event
from sandbox.dev_task_faults import TaskFaultAdmin
from sandbox.local_api import LocalApi

__all__ = [
    "DEFAULT_USER",
    "USER_B",
    "LambdaContext",
    "api_event",
    "call",
    "dev_gateway",
    "never_called",
    "preflight",
]

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
    return proxy_event(
        method,
        path,
        stage="test",
        api_id="testapi",
        headers=list(all_headers.items()),
        query={k: [v] for k, v in (query or {}).items()},
        body=raw_body,
        claims=None if user is None else cognito_claims(*user),
        identity={"sourceIp": "203.0.113.7", "userAgent": "pytest"},
        resource_id="abc123",
    )


def call(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke the API Lambda; returns (status, parsed JSON body or None)."""
    from api.app import lambda_handler

    result = lambda_handler(event, LambdaContext(log_stream_name="test"))
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(str(v) for v in values)
    raw = result.get("body")
    body = json.loads(raw) if raw else None
    return int(result["statusCode"]), headers, body


def preflight(origin: str, **headers: str) -> dict[str, Any]:
    """A CORS preflight of ``POST /api/snipes`` from ``origin`` (no identity);
    ``headers`` adds more (``Access_Control_Request_Headers=...``)."""
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    return api_event(
        "OPTIONS",
        "/api/snipes",
        user=None,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", **extra},
    )


def never_called(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An API Lambda for gateway tests where it must not run (``/dev`` routes,
    API Gateway's own 401/403)."""
    raise AssertionError("the API Lambda must not run for /dev routes or a 401")


def dev_gateway(
    *, key: bytes, origins: Sequence[str], task_faults: TaskFaultAdmin | None = None
) -> Client:
    """A test client of the local gateway (``sandbox.local_api``) in front of
    :func:`never_called`, for its ``/dev`` routes."""
    return Client(
        LocalApi(
            never_called, signing_key=key, origins=origins, task_faults=task_faults
        )
    )

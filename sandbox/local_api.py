"""Serve the API Lambda over local HTTP, as API Gateway (REST, v1 proxy) would.

Each HTTP request becomes an API Gateway REST proxy event and goes to
``api.app.lambda_handler`` in-process. The Cognito authorizer is replaced by
``sandbox.auth``: a missing or bad token gets API Gateway's 401 before the Lambda
runs. ``GET /api/health``, ``GET /api/openapi.json`` and CORS preflights
(``OPTIONS``) need no token, as in ``template.yaml``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.apigw import LambdaContext, proxy_event
from sandbox.auth import InvalidToken, verify_authorization

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
PUBLIC_ROUTES = {("GET", "/api/health"), ("GET", "/api/openapi.json")}


def to_event(request: Request, claims: dict[str, Any] | None) -> dict[str, Any]:
    """The API Gateway REST proxy event for an HTTP request."""
    return proxy_event(
        request.method,
        request.path,
        stage="local",
        headers=list(request.headers.items()),
        query=request.args.to_dict(flat=False),
        body=request.get_data(as_text=True) or None,
        claims=claims,
        identity={"sourceIp": request.remote_addr or "127.0.0.1"},
    )


def to_response(result: dict[str, Any]) -> Response:
    response = Response(
        result.get("body") or "", status=int(result.get("statusCode", 500))
    )
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        response.headers.remove(name)
        for value in values:
            response.headers.add(name, str(value))
    return response


class LocalApi:
    """A WSGI app: API Gateway + Cognito authorizer stand-in in front of a handler."""

    def __init__(self, handler: Handler, *, signing_key: bytes) -> None:
        self._handler = handler
        self._key = signing_key
        # On AWS each API invocation has its own process. Here requests share
        # one, and Powertools keeps the current request on the module-level
        # resolver: concurrent calls would see each other's event (even its
        # claims). One request at a time, as one Lambda container serves them.
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if not request.path.startswith("/api/") and request.path != "/api":
            return _gateway_error(403, "Missing Authentication Token")
        claims: dict[str, Any] | None = None
        public = (request.method, request.path) in PUBLIC_ROUTES
        if request.method != "OPTIONS" and not public:
            try:
                claims = verify_authorization(
                    request.headers.get("Authorization"), key=self._key
                )
            except InvalidToken:
                return _gateway_error(401, "Unauthorized")
        with self._lock:
            result = self._handler(to_event(request, claims), LambdaContext())
        return to_response(result)


def _gateway_error(status: int, message: str) -> Response:
    """API Gateway's own error body (the Lambda never ran)."""
    return Response(
        json.dumps({"message": message}),
        status=status,
        content_type="application/json",
        headers={"x-amzn-ErrorType": "UnauthorizedException"} if status == 401 else {},
    )

"""Serve the API Lambda over local HTTP, as API Gateway (REST, v1 proxy) would.

Each HTTP request becomes an API Gateway REST proxy event and goes to
``api.app.lambda_handler`` in-process. The Cognito authorizer is replaced by
``sandbox.auth``: a missing or bad token gets API Gateway's 401 before the Lambda
runs. ``GET /api/health``, ``GET /api/openapi.json`` and CORS preflights
(``OPTIONS``) need no token, as in ``template.yaml``.

Sandbox only: ``POST /dev/token`` (``sandbox.dev_token``) signs a user in for
the web app's dev sign-in. It is not part of the API and not in
``template.yaml``: on AWS, users sign in through Cognito's Hosted UI.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox import dev_token
from sandbox.auth import InvalidToken, verify_authorization

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
PUBLIC_ROUTES = {("GET", "/api/health"), ("GET", "/api/openapi.json")}


class _Context:
    """Just enough of a Lambda context for Powertools."""

    function_name = "ApiFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/ApiFunction"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 15

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def to_event(request: Request, claims: dict[str, Any] | None) -> dict[str, Any]:
    """The API Gateway REST proxy event for an HTTP request."""
    path = request.path
    headers = dict(request.headers.items())
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi_headers.setdefault(name, []).append(value)
    query = dict(request.args.items()) or None
    multi_query = {k: request.args.getlist(k) for k in request.args} or None
    body = request.get_data(as_text=True) or None
    proxy = path.removeprefix("/api/") if path.startswith("/api/") else path
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "httpMethod": request.method,
        "path": f"/local{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourcePath": "/api/{proxy+}",
        "stage": "local",
        "identity": {"sourceIp": request.remote_addr or "127.0.0.1"},
    }
    if claims is not None:
        context["authorizer"] = {
            "claims": {k: str(v) for k, v in claims.items()},
        }
    return {
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {"proxy": proxy},
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


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
        if request.path == dev_token.PATH:
            return dev_token.handle(request, key=self._key)
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
                response = _gateway_error(401, "Unauthorized")
                # As template.yaml's GatewayResponses: the browser may read it.
                response.headers.extend(
                    dev_token.cors_headers(request.headers.get("Origin"))
                )
                return response
        with self._lock:
            result = self._handler(to_event(request, claims), _Context())
        return to_response(result)


def _gateway_error(status: int, message: str) -> Response:
    """API Gateway's own error body (the Lambda never ran)."""
    return Response(
        json.dumps({"message": message}),
        status=status,
        content_type="application/json",
        headers={"x-amzn-ErrorType": "UnauthorizedException"} if status == 401 else {},
    )

"""Serve the API Lambda over local HTTP, as API Gateway (REST, v1 proxy) would.

Each HTTP request becomes an API Gateway REST proxy event and goes to
``api.app.lambda_handler`` in-process. The Cognito authorizer is replaced by
``sandbox.auth``: a missing or bad token gets API Gateway's 401 before the Lambda
runs. ``GET /api/health``, ``GET /api/openapi.json`` and CORS preflights
(``OPTIONS``) need no token, as in ``template.yaml``.

Sandbox only: ``POST /dev/token`` (``sandbox.dev_token``) signs a user in for
the web app's dev sign-in. It is not part of the API and not in
``template.yaml``: on AWS, users sign in through Cognito's Hosted UI. With
``task_faults`` (``make dev`` passes one), ``/dev/task-faults``
(``sandbox.dev_task_faults``) injects task Lambda faults into the engine of
this process; without, that path is API Gateway's 403 as any other outside
``/api``.

Whatever API Gateway itself answers (401, 403 outside ``/api``, 413 above its
10 MB limit, 429 when ``throttle_rps`` is set, 502 when the Lambda fails) has
the body and headers of ``template.yaml``'s GatewayResponses
(``sandbox.gateway``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox import dev_token, gateway
from sandbox.apigw import LambdaContext, proxy_event
from sandbox.auth import InvalidToken, verify_authorization
from workflows.observability import logger

if TYPE_CHECKING:
    from sandbox.dev_task_faults import TaskFaultAdmin

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

    def __init__(
        self,
        handler: Handler,
        *,
        signing_key: bytes,
        origins: Sequence[str] = (),
        throttle_rps: float | None = None,
        throttle_burst: int = 40,
        task_faults: TaskFaultAdmin | None = None,
    ) -> None:
        self._handler = handler
        self._task_faults = task_faults
        self._key = signing_key
        self._origins = list(origins)
        self._bucket = (
            _TokenBucket(throttle_rps, throttle_burst) if throttle_rps else None
        )
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
        if self._bucket is not None and not self._bucket.take():
            return self.gateway_error(gateway.THROTTLED)
        if request.path == dev_token.PATH:
            return dev_token.handle(request, key=self._key, origins=self._origins)
        if self._task_faults is not None and request.path == self._task_faults.PATH:
            return self._task_faults.handle(request, origins=self._origins)
        if not request.path.startswith("/api/") and request.path != "/api":
            return self.gateway_error(gateway.MISSING_AUTHENTICATION_TOKEN)
        if (request.content_length or 0) > gateway.MAX_PAYLOAD_BYTES:
            return self.gateway_error(gateway.REQUEST_TOO_LARGE)
        claims: dict[str, Any] | None = None
        public = (request.method, request.path) in PUBLIC_ROUTES
        if request.method != "OPTIONS" and not public:
            try:
                claims = verify_authorization(
                    request.headers.get("Authorization"), key=self._key
                )
            except InvalidToken:
                return self.gateway_error(gateway.UNAUTHORIZED)
        try:
            with self._lock:
                result = self._handler(to_event(request, claims), LambdaContext())
        except Exception:  # the Lambda failed: API Gateway answers 502
            logger.exception("the API function failed")
            return self.gateway_error(gateway.INTEGRATION_FAILURE)
        return to_response(result)

    def gateway_error(self, error: gateway.GatewayError) -> Response:
        """API Gateway's own answer (the Lambda never ran, or failed)."""
        headers = gateway.gateway_headers(self._origins)
        if error is gateway.UNAUTHORIZED:
            headers["x-amzn-ErrorType"] = "UnauthorizedException"
        return Response(
            gateway.gateway_body(error),
            status=error.status,
            content_type="application/json",
            headers=headers,
        )


class _TokenBucket:
    """API Gateway's stage throttling: ``rate`` per second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(
                self._burst, self._tokens + (now - self._at) * self._rate
            )
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

"""The Lambda Invoke endpoint Step Functions Local calls (``LAMBDA_ENDPOINT``).

Step Functions Local runs in a container and invokes a task's Lambda with the
AWS SDK against ``LAMBDA_ENDPOINT``: ``POST
/2015-03-31/functions/{FunctionName}/invocations`` (the function ARN of the
task's ``Resource``, URL-encoded), the event as the body. The moto server
answers exactly that through :mod:`sandbox.engine`'s invoke hook, which runs
our handler in this process and reports an exception the way Lambda does
(status 200, ``X-Amz-Function-Error: Unhandled``, body ``{"errorType",
"errorMessage", "stackTrace"}``), so the state machine's ``Retry``/``Catch``
match our exception class names.

The moto server binds 127.0.0.1 and serves much more than Invoke (DynamoDB,
KMS, Secrets Manager). A container cannot reach the host's loopback, so this
gateway listens on the address the container reaches the host by
(``host-gateway``, usually Docker's bridge gateway, never ``0.0.0.0``) and
forwards **only** the Invoke operation to moto, verbatim: method, path, query,
body and the Lambda request headers in; status, Lambda response headers and
body out. Everything else gets Lambda's 404 ``UnknownOperationException``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import unquote

import httpx

from sandbox.httpserver import BackgroundServer

__all__ = ["INVOKE_PATH", "LambdaGateway", "check_bind_host", "routing_authorization"]

LOGGER = logging.getLogger(__name__)

INVOKE_PATH: Final = re.compile(
    r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$"
)
# Request headers of the Invoke API. The caller's signature is not forwarded:
# see :func:`routing_authorization`.
# Nor is its Content-Type: the Invoke payload is JSON whatever an SDK labels it,
# and moto mistakes ``application/x-amz-json-1.1`` for another protocol (404)
# and swallows a form-encoded body.
_REQUEST_HEADERS: Final = (
    "x-amz-invocation-type",
    "x-amz-log-type",
    "x-amz-client-context",
)
_ARN_REGION: Final = re.compile(r"^arn:aws[\w-]*:lambda:(?P<region>[a-z0-9-]+):")
# Response headers of the Invoke API.
_RESPONSE_HEADERS: Final = (
    "content-type",
    "x-amz-function-error",
    "x-amz-executed-version",
    "x-amz-log-result",
    "x-amzn-requestid",
    "x-amzn-errortype",
    "x-amzn-remapped-content-length",
)
# Lambda's longest run: a forwarded invocation is never cut short here.
UPSTREAM_TIMEOUT_S: Final = 900.0

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def check_bind_host(host: str) -> str:
    """Loopback or a private address (Docker's bridge gateway), nothing wider.

    Raises:
        ValueError: ``host`` is not an IP address, or is unspecified (0.0.0.0)
            or public.
    """
    address = ipaddress.ip_address(host)
    if address.is_unspecified or not (address.is_loopback or address.is_private):
        raise ValueError(
            f"the Lambda gateway binds loopback or a private address, not {host}"
        )
    return host


def routing_authorization(function: str, default_region: str) -> str:
    """A SigV4-shaped ``Authorization`` naming the ``lambda`` service.

    The moto server picks the service of a request from the credential scope of
    its ``Authorization`` header. An unsigned request (Step Functions Local does
    not pass the credentials it was given to endpoint overrides) falls through
    to S3 and fails there. moto does not check signatures, so the gateway
    replaces whatever the caller sent with a header that routes to Lambda in the
    function's region (from its ARN, else ``default_region``); the access key
    selects moto's default account.
    """
    match = _ARN_REGION.match(unquote(function))
    region = match.group("region") if match else default_region
    return (
        f"AWS4-HMAC-SHA256 Credential=sfn-local/20000101/{region}/lambda/"
        "aws4_request, SignedHeaders=host, Signature=0"
    )


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, sent with a Content-Length or chunked."""
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # werkzeug de-chunked it
        return bytes(stream.read())
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(stream.read(length)) if length > 0 else b""


def _error(
    start_response: StartResponse, status: str, error_type: str, message: str
) -> list[bytes]:
    kind = "Service" if status.startswith("5") else "User"
    body = json.dumps({"Type": kind, "message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", error_type),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


class LambdaGateway:
    """The WSGI app that forwards Lambda Invoke requests to the moto server
    (``upstream``); :meth:`serve` runs it. Thread-per-request, so concurrent
    executions' tasks run concurrently, as they do on moto.
    """

    def __init__(self, upstream: str, *, region: str = "us-east-1") -> None:
        self.upstream = upstream.rstrip("/")
        self.region = region
        self._client = httpx.Client(
            base_url=self.upstream,
            timeout=httpx.Timeout(UPSTREAM_TIMEOUT_S, connect=5.0),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> BackgroundServer:
        """Serve on ``host:port`` (:func:`check_bind_host`; ``port=0``: any free
        port) in a thread; stopping the server closes the upstream client."""
        return BackgroundServer(
            self,
            host,
            port,
            name="lambda-gateway",
            on_stop=self._client.close,
            check_host=check_bind_host,
        ).start()

    # WSGI ----------------------------------------------------------------- #
    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        raw_uri = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        invoke = INVOKE_PATH.match(raw_uri.split("?", 1)[0])
        if environ.get("REQUEST_METHOD") != "POST" or invoke is None:
            return _error(
                start_response,
                "404 Not Found",
                "UnknownOperationException",
                "only Lambda Invoke (POST /2015-03-31/functions/{name}/invocations) "
                "is served here",
            )
        body = _read_body(environ)
        headers = {"content-type": "application/json"}
        for name in _REQUEST_HEADERS:
            value = environ.get("HTTP_" + name.upper().replace("-", "_"))
            if value:
                headers[name] = value
        headers["authorization"] = routing_authorization(
            invoke.group("name"), self.region
        )
        try:
            upstream = self._client.post(raw_uri, content=body, headers=headers)
        except httpx.HTTPError as exc:
            LOGGER.warning("Lambda gateway: moto did not answer: %s", exc)
            return _error(
                start_response,
                "500 Internal Server Error",
                "ServiceException",
                f"the local Lambda service did not answer: {type(exc).__name__}",
            )
        reply = [
            (name, upstream.headers[name])
            for name in _RESPONSE_HEADERS
            if name in upstream.headers
        ]
        reply.append(("Content-Length", str(len(upstream.content))))
        start_response(f"{upstream.status_code} {upstream.reason_phrase}", reply)
        return [upstream.content]

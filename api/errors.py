"""The one exception -> HTTP map of the API, and the one error shape.

Every failure leaves the API as ``{"error": {"code", "message", "details"}}``
(``api.models.ErrorResponse``):

* ``DomainError`` subclasses (``workflows.errors``, and ``api.limits``'
  ``PayloadTooLarge``) carry their code, message and details; their HTTP status
  comes from ``STATUS_BY_ERROR`` here, looked up along the class's MRO (the
  only place a domain error meets a status); ``ServiceUnavailable`` (503) adds a
  ``Retry-After`` header;
* request validation (Powertools' ``RequestValidationError``) becomes 422
  ``VALIDATION_FAILED`` with ``details.errors = [{loc, type, message}]``, or
  400 ``INVALID_JSON`` when the body is not JSON at all; an unauthenticated
  request gets 401 instead, because authentication comes first;
* a body above the size limit is 413 ``PAYLOAD_TOO_LARGE`` (``api.limits``),
  before it is parsed and before authentication;
* unknown routes become 404 ``ROUTE_NOT_FOUND``;
* anything else becomes 500 ``INTERNAL_ERROR``, logged with its traceback and
  with nothing of it in the body.

``ERROR_RESPONSES`` documents the same statuses for the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayRestResolver,
    Response,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from api.auth import identity_from_event
from api.limits import PayloadTooLarge
from api.models import ErrorResponse
from api.requests import InvalidJsonBody
from workflows.errors import (
    Conflict,
    DomainError,
    NotFound,
    ServiceUnavailable,
    TooManyActiveSnipes,
    Unauthorized,
    Unprocessable,
    UpstreamUnavailable,
)
from workflows.observability import logger

VALIDATION_FAILED = "VALIDATION_FAILED"
ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"
INTERNAL_ERROR = "INTERNAL_ERROR"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
INVALID_JSON = "INVALID_JSON"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
BAD_REQUEST = "BAD_REQUEST"
# API Gateway's own answers ($context.error.responseType, template.yaml's
# GatewayResponses; sandbox.gateway): the Lambda never ran.
GATEWAY_CODES = (
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
    "WAF_FILTERED",
    "REQUEST_TOO_LARGE",
    "THROTTLED",
    "QUOTA_EXCEEDED",
    "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
)


def error_codes() -> list[str]:
    """Every ``error.code`` a client can see (the OpenAPI enum)."""
    import api.app  # noqa: F401 - every module with an DomainError is loaded

    codes = {
        VALIDATION_FAILED,
        ROUTE_NOT_FOUND,
        INTERNAL_ERROR,
        UNSUPPORTED_MEDIA_TYPE,
        INVALID_JSON,
        METHOD_NOT_ALLOWED,
        BAD_REQUEST,
        *GATEWAY_CODES,
    }
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return sorted(codes)


# The one domain error -> HTTP status map; a class not listed takes its nearest
# listed base's status (``DomainError`` itself: 400).
STATUS_BY_ERROR: dict[type[DomainError], HTTPStatus] = {
    DomainError: HTTPStatus.BAD_REQUEST,
    Unauthorized: HTTPStatus.UNAUTHORIZED,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    TooManyActiveSnipes: HTTPStatus.TOO_MANY_REQUESTS,
    UpstreamUnavailable: HTTPStatus.BAD_GATEWAY,
    ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def status_of(exc: DomainError) -> HTTPStatus:
    """The HTTP status of a domain error (its nearest class in the map)."""
    for cls in type(exc).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    raise TypeError(f"{type(exc).__name__} is not a DomainError")  # unreachable


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorResponse.body(code, message, dict(details or {})),
        headers=dict(headers or {}),
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Install the map on ``app`` (handlers are looked up along the MRO)."""

    def invalid_request(exc: RequestValidationError) -> Response[Any]:
        errors = [_field_error(e) for e in exc.errors()]
        if any(e["loc"][:1] == ["response"] for e in errors):
            # Without response_validation_error_http_code, Powertools reports a
            # route's invalid *response* as a RequestValidationError: our bug.
            logger.error("response failed validation", extra={"errors": errors})
            return _internal_error()
        if identity_from_event(app.current_event) is None:
            # Authentication comes first, but Powertools validates the request
            # before any middleware or dependency can check the caller.
            return api_error(Unauthorized("authentication required"))
        if any(e["type"] == "json_invalid" for e in errors):
            return error_response(
                HTTPStatus.BAD_REQUEST,
                INVALID_JSON,
                "the request body is not valid JSON",
            )
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            VALIDATION_FAILED,
            "the request is not valid",
            {"errors": errors},
        )

    def unreadable_body(exc: Exception) -> Response[Any]:
        # Authentication comes first (API Gateway's authorizer on AWS).
        if identity_from_event(app.current_event) is None:
            return api_error(Unauthorized("authentication required"))
        if isinstance(exc, DomainError):
            return api_error(exc)
        return unsupported_content_type(exc)

    def no_route(exc: NotFoundError) -> Response[Any]:
        event = app.current_event
        allowed = _allowed_methods(app, event.path)
        if allowed and event.http_method.upper() not in allowed:
            return error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                METHOD_NOT_ALLOWED,
                f"{event.http_method} is not allowed here; use {', '.join(allowed)}",
                {"allowed": allowed},
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(
            HTTPStatus.NOT_FOUND,
            ROUTE_NOT_FOUND,
            f"no route {event.http_method} {event.path[:200]}",
        )

    handlers: dict[type[Exception], Callable[[Any], Response[Any]]] = {
        ServiceUnavailable: service_unavailable,
        DomainError: api_error,
        InvalidJsonBody: unreadable_body,
        RequestValidationError: invalid_request,
        RequestUnsupportedContentType: unreadable_body,
        NotFoundError: no_route,
        ServiceError: powertools_error,
        Exception: unexpected_error,
    }
    for exc_class, handler in handlers.items():
        app.exception_handler(exc_class)(handler)


def _allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods of the routes whose path matches (405 instead of 404)."""
    routes = [*app._static_routes, *app._dynamic_routes]
    return sorted({r.method for r in routes if r.rule.match(path)})


def service_unavailable(exc: ServiceUnavailable) -> Response[Any]:
    logger.warning(
        "dependency unavailable", extra={"code": exc.code, "error": exc.message}
    )
    return error_response(
        status_of(exc),
        exc.code,
        exc.message,
        exc.details,
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


def api_error(exc: DomainError) -> Response[Any]:
    status = status_of(exc)
    log = logger.warning if status >= 500 else logger.info
    log("request refused", extra={"status": int(status), "code": exc.code})
    return error_response(status, exc.code, exc.message, exc.details)


def unsupported_content_type(exc: Exception) -> Response[Any]:
    return error_response(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        UNSUPPORTED_MEDIA_TYPE,
        "send the body as application/json",
    )


def powertools_error(exc: ServiceError) -> Response[Any]:
    status = HTTPStatus(exc.status_code)
    message = exc.msg if isinstance(exc.msg, str) else status.phrase
    code = BAD_REQUEST if status < HTTPStatus.INTERNAL_SERVER_ERROR else INTERNAL_ERROR
    return error_response(status, code, message)


def unexpected_error(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return _internal_error()


def _internal_error() -> Response[Any]:
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR, "an internal error occurred"
    )


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """Location, type and a friendly message; never the input, pydantic's
    context, its "Value error," prefix or a regular expression."""
    loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
    kind = str(error.get("type", "value_error"))
    return {"loc": loc, "type": kind, "message": friendly_message(loc, kind, error)}


_SHOULD = re.compile(r"^(?:Input|String|List|Value|Dictionary|Object) should")
# What a pattern-checked field must look like (instead of the pattern).
_FORMATS: dict[tuple[str, ...], str] = {
    ("max_bid", "value"): (
        "a decimal amount as a string, greater than zero, with at most 2"
        ' decimals, e.g. "12.34"'
    ),
    ("max_bid", "currency"): "a three-letter ISO 4217 code in capitals, e.g. USD",
    ("group_id",): "a group id (letters, digits, _ and -), e.g. grp_01JD5Z8Q4X3W",
    ("idempotency-key",): "1-255 visible ASCII characters, e.g. a UUID",
}


def friendly_message(loc: list[str | int], kind: str, error: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in loc[1:]) or (str(loc[0]) if loc else "request")
    raw = str(error.get("msg", "invalid value"))
    if kind == "value_error":
        text = raw.removeprefix("Value error, ")
    elif (
        kind in ("string_pattern_mismatch", "string_type")
        and tuple(str(p).lower() for p in loc[1:]) in _FORMATS
    ):
        text = "must be " + _FORMATS[tuple(str(p).lower() for p in loc[1:])]
    elif kind == "string_pattern_mismatch":
        text = "has an invalid format"
    elif kind == "missing":
        text = "is required"
    elif kind == "extra_forbidden":
        text = "is not a field of this request"
    else:
        text = _SHOULD.sub("must", raw)
    return f"{where}: {text}"


# --- OpenAPI documentation of the same map ------------------------------------

_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request (INVALID_JSON, INVALID_CURSOR)",
    401: "No identity from the Cognito authorizer (UNAUTHORIZED)",
    404: "Not found (SNIPE_NOT_FOUND; another user's snipe is not found either)",
    409: "Conflict with the snipe's or auction's state",
    413: "Body larger than the limit (PAYLOAD_TOO_LARGE; details.limit_bytes)",
    415: "Body is not JSON (UNSUPPORTED_MEDIA_TYPE)",
    429: "TOO_MANY_ACTIVE_SNIPES: at the per-user cap (details: limit, active)",
    422: ("VALIDATION_FAILED (details.errors lists each field) or a domain check"),
    500: "Unexpected error (INTERNAL_ERROR); nothing internal is disclosed",
    502: "eBay unavailable or answering unexpectedly (EBAY_UNAVAILABLE, EBAY_ERROR)",
    503: (
        "Storage or workflow engine throttled or unavailable (STORE_UNAVAILABLE,"
        " WORKFLOW_UNAVAILABLE); retry after Retry-After seconds"
    ),
}


def error_responses(
    *statuses: int, descriptions: Mapping[int, str] | None = None
) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses for ``statuses``, all with the ErrorResponse schema.

    Passing 422 here replaces Powertools' default 422 (``HTTPValidationError``,
    ``{"detail": [...]}``), which is not what this API returns.
    """
    texts = {**_DESCRIPTIONS, **(descriptions or {})}
    responses: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        response: OpenAPIResponse = {
            "description": texts[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait before retrying",
                    "schema": {"type": "integer"},
                }
            }
        responses[status] = response
    return responses

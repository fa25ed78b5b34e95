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

    def no_route(exc: NotFoundError) -> Response[Any]:
        event = app.current_event
        return error_response(
            HTTPStatus.NOT_FOUND,
            ROUTE_NOT_FOUND,
            f"no route {event.http_method} {event.path}",
        )

    handlers: dict[type[Exception], Callable[[Any], Response[Any]]] = {
        ServiceUnavailable: service_unavailable,
        DomainError: api_error,
        RequestValidationError: invalid_request,
        RequestUnsupportedContentType: unsupported_content_type,
        NotFoundError: no_route,
        ServiceError: powertools_error,
        Exception: unexpected_error,
    }
    for exc_class, handler in handlers.items():
        app.exception_handler(exc_class)(handler)


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


def unsupported_content_type(exc: RequestUnsupportedContentType) -> Response[Any]:
    return error_response(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        UNSUPPORTED_MEDIA_TYPE,
        "send the body as application/json",
    )


def powertools_error(exc: ServiceError) -> Response[Any]:
    status = HTTPStatus(exc.status_code)
    message = exc.msg if isinstance(exc.msg, str) else status.phrase
    return error_response(status, status.name, message)


def unexpected_error(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return _internal_error()


def _internal_error() -> Response[Any]:
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR, "an internal error occurred"
    )


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """Location, type and message; never the input or pydantic's context."""
    return {
        "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc", ())],
        "type": str(error.get("type", "value_error")),
        "message": str(error.get("msg", "invalid value")),
    }


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

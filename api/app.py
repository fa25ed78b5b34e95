"""The API Lambda: Powertools REST resolver for API Gateway REST (v1) proxy events.

Routes live in ``api.snipes``, ``api.ebay``, ``api.groups``, ``api.stats`` and
``api.preferences`` (authenticated) and here (``/api/health`` and
``/api/openapi.json``, public). The one exception map is ``api.errors``; CORS is
``api.cors`` and reads its origins per request, so importing this module reads
no environment variables (Powertools' own ``POWERTOOLS_*`` aside). The body
size limit (``api.limits``) is read per request too, and ``lambda_handler``
adds the security headers (``api.security_headers``) to every response.

Tests replace the services with
``app.dependency_overrides[get_services] = lambda: services``.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import (
    APIGatewayRestResolver,
    Response,
)
from aws_lambda_powertools.logging import correlation_paths

from api import (
    ebay,
    examples,
    groups,
    items,
    openapi,
    params,
    preferences,
    snipes,
    stats,
)
from api.clock import reset_request_now, set_request_now
from api.cors import ConfiguredOriginsCORS
from api.errors import error_responses, register_error_handlers
from api.limits import BodySizeLimit
from api.models import HealthView
from api.requests import JsonObjectBodies
from api.responses import route_responses
from api.security_headers import with_security_headers, with_server_time
from workflows import budget
from workflows.observability import logger, metrics
from workflows.services import Services, get_services
from workflows.timing import utc_now

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

API_TITLE = "eBay auction sniper API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Schedule, list and cancel snipes: bids placed seconds before an eBay auction"
    " ends. Every error has the shape"
    ' `{"error": {"code": "...", "message": "...", "details": {...}}}`.'
)


def _configured_services() -> Services:
    """The services the routes get (honours ``app.dependency_overrides``)."""
    provider = app.dependency_overrides.get(get_services, get_services)
    services: Services = provider()
    return services


def _cors_origins() -> list[str]:
    return _configured_services().settings.cors_origins


def _max_body_bytes() -> int:
    return _configured_services().settings.max_request_body_bytes


body_limit = BodySizeLimit(_max_body_bytes)
app = APIGatewayRestResolver(
    enable_validation=True,
    cors=ConfiguredOriginsCORS(_cors_origins),
    json_body_deserializer=body_limit.json_deserializer,
)
# Only JSON-object bodies (api.requests); Powertools reads the attribute for
# every route's validation.
app._request_validation_middleware = JsonObjectBodies()
register_error_handlers(app)
app.use([body_limit.middleware])
app.include_router(snipes.router)
app.include_router(items.router)
app.include_router(ebay.router)
app.include_router(groups.router)
app.include_router(stats.router)
app.include_router(preferences.router)


@app.get(
    "/api/health",
    operation_id="getHealth",
    summary="Liveness",
    tags=["meta"],
    responses=route_responses(
        "Alive", HealthView, examples.HEALTH_EXAMPLES, errors=(500,)
    ),
)
def health() -> HealthView:
    return HealthView(status="ok")


@app.get(
    "/api/openapi.json",
    operation_id="getOpenApi",
    summary="This OpenAPI document",
    tags=["meta"],
    responses={
        HTTPStatus.OK: {
            "description": "OpenAPI 3.1 document",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": True,
                        "description": "An OpenAPI 3.1 document",
                    },
                    "examples": {
                        "document": {
                            "summary": "This API (abridged)",
                            "value": {
                                "openapi": "3.1.0",
                                "info": {"title": API_TITLE, "version": API_VERSION},
                                "paths": {},
                            },
                        }
                    },
                }
            },
        },
        **error_responses(500),
    },
)
def openapi_json() -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=openapi_document(),
    )


@cache
def openapi_document() -> str:
    """The OpenAPI document, generated once per process."""
    return openapi.document(
        app,
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        security_scheme=params.SECURITY_SCHEME,
    )


# Set by the Lambda runtime; the local API and the tests have no real timeout.
LAMBDA_RUNTIME_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if LAMBDA_RUNTIME_VARIABLE in os.environ:  # on Lambda the timeout kills
        budget.start_request(context.get_remaining_time_in_millis())
    path = event.get("path")
    if isinstance(path, str):
        event = {**event, "path": items.item_path(path)}
    now = _server_now()
    token = set_request_now(now)
    try:
        response = app.resolve(event, context)
    finally:
        reset_request_now(token)
    return with_security_headers(with_server_time(response, now))


def _server_now() -> datetime:
    try:
        return _configured_services().now()
    except Exception:  # no configuration: the answer still says what time it is
        return utc_now()

"""OpenAPI response entries for the routes' success answers.

Error answers come from :func:`api.errors.error_responses`; this is the other
half: one JSON body with its model and named examples.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from api.errors import error_responses


def json_response(
    description: str, model: type[Any], examples: dict[str, Any]
) -> OpenAPIResponse:
    """A JSON answer described by ``model`` and shown by ``examples``."""
    return {
        "description": description,
        "content": {"application/json": {"model": model, "examples": examples}},
    }


def route_responses(
    description: str,
    model: type[Any],
    examples: dict[str, Any],
    *,
    errors: tuple[int, ...],
    status: int = HTTPStatus.OK,
    descriptions: Mapping[int, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's ``responses``: its JSON answer (``status``, 200 unless said)
    and its error answers (``errors``, texts overridden by ``descriptions``)."""
    return {
        status: json_response(description, model, examples),
        **error_responses(*errors, descriptions=descriptions),
    }

"""OpenAPI response entries for the routes' success answers.

Error answers come from :func:`api.errors.error_responses`; this is the other
half: one JSON body with its model and named examples.
"""

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse


def json_response(
    description: str, model: type[Any], examples: dict[str, Any]
) -> OpenAPIResponse:
    """A JSON answer described by ``model`` and shown by ``examples``."""
    return {
        "description": description,
        "content": {"application/json": {"model": model, "examples": examples}},
    }

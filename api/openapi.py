"""The OpenAPI document: Powertools' generator plus two corrections.

With ``enable_validation`` Powertools documents a 422 ``HTTPValidationError``
(``{"detail": [...]}``) on every route, even on routes without inputs and even
when a route sets ``enable_validation=False`` (the generator reads only the
resolver's flag). This API never sends that body: routes with inputs declare
their own 422 (``ErrorResponse``, which replaces the default), and the leftover
defaults plus the component schemas no one refers to any more are removed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import (
        APIGatewayRestResolver,
    )

_SCHEMA_PREFIX = "#/components/schemas/"
_POWERTOOLS_422 = {"$ref": f"{_SCHEMA_PREFIX}HTTPValidationError"}


def document(
    app: APIGatewayRestResolver,
    *,
    title: str,
    version: str,
    description: str,
    security_scheme: str,
) -> str:
    """The document as compact JSON."""
    # Imported here: Powertools' OpenAPI models (50-70 ms of pydantic classes
    # at import, docs/benchmarks.md) are needed to generate the document
    # (``/api/openapi.json``, built once per container), never to serve a
    # request; Powertools itself imports them only in get_openapi_json_schema.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    generated = app.get_openapi_json_schema(
        title=title,
        version=version,
        description=description,
        security_schemes={
            security_scheme: HTTPBearer(
                bearerFormat="JWT",
                description=(
                    "Cognito user-pool ID token. API Gateway's Cognito authorizer"
                    " validates it and passes its sub and email claims to the API."
                ),
            )
        },
    )
    spec: dict[str, Any] = json.loads(generated)
    _drop_default_422(spec)
    _drop_unused_schemas(spec)
    return json.dumps(spec, separators=(",", ":"))


def _drop_default_422(spec: dict[str, Any]) -> None:
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {})
            if content.get("application/json", {}).get("schema") == _POWERTOOLS_422:
                del responses["422"]


def _drop_unused_schemas(spec: dict[str, Any]) -> None:
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    used = _schema_refs({k: v for k, v in spec.items() if k != "components"})
    pending = list(used)
    while pending:
        for name in _schema_refs(schemas.get(pending.pop(), {})) - used:
            used.add(name)
            pending.append(name)
    for name in set(schemas) - used:
        del schemas[name]


def _schema_refs(node: Any) -> set[str]:
    """Names of the component schemas ``node`` refers to, at any depth."""
    if isinstance(node, list):
        return set().union(*map(_schema_refs, node))
    if not isinstance(node, dict):
        return set()
    found: set[str] = set().union(*map(_schema_refs, node.values()))
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_SCHEMA_PREFIX):
        found.add(ref.removeprefix(_SCHEMA_PREFIX))
    return found

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
    _plain_optional_parameters(spec)
    _request_schemas_for_clients(spec)
    _add_links(spec)
    _money_input_by_currency(spec)
    _server_time_header(spec)
    return json.dumps(spec, separators=(",", ":"))


SERVER_TIME = {
    "description": (
        "The server's clock when it answered (UTC, milliseconds); every answer"
        " of the API function has it (API Gateway's own errors do not)"
    ),
    "required": True,
    "schema": {"type": "string", "format": "date-time"},
    "example": "2026-05-01T12:00:00.000Z",
}


def _server_time_header(spec: dict[str, Any]) -> None:
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    response.setdefault("headers", {})["X-Server-Time"] = SERVER_TIME


def _decimals_pattern(places: int) -> str:
    """A positive amount of at most ``places`` decimals, no leading zeros."""
    if places == 0:
        return r"^[1-9][0-9]{0,8}$"
    fractions = "|".join(
        "0" * zeros
        + "[1-9]"
        + (f"[0-9]{{0,{places - zeros - 1}}}" if places - zeros > 1 else "")
        for zeros in range(places)
    )
    return rf"^(?:[1-9][0-9]{{0,8}}(?:\.[0-9]{{1,{places}}})?|0\.(?:{fractions}))$"


def _money_input_by_currency(spec: dict[str, Any]) -> None:
    """The decimals rule of MaxBidInput (workflows.scheduling) in the schema:
    a value is positive and has at most its currency's decimals (2; 0 for
    JPY and KRW, 3 for BHD and KWD), so what the schema allows is accepted."""
    from workflows.money import currencies_by_exponent

    schema = spec.get("components", {}).get("schemas", {}).get("MaxBidInput")
    if schema is None:
        return
    special = currencies_by_exponent()
    others = sorted(c for currencies in special.values() for c in currencies)
    branches: list[dict[str, Any]] = [
        {
            "properties": {
                "currency": {"enum": currencies},
                "value": {"pattern": _decimals_pattern(places)},
            }
        }
        for places, currencies in sorted(special.items())
    ]
    branches.append(
        {
            "properties": {
                "currency": {"not": {"enum": others}},
                "value": {"pattern": _decimals_pattern(2)},
            }
        }
    )
    schema["anyOf"] = branches


# Request fields where null means something (leave the group); elsewhere an
# optional request field is simply left out, and null is refused.
NULLABLE_REQUEST_FIELDS = {
    ("EditSnipeRequest", "group_id"),
    ("CreateSnipeRequest", "group_id"),  # null: no group, as when left out
}
# PATCH bodies must change something.
NON_EMPTY_REQUESTS = {"EditSnipeRequest", "UpdateGroupRequest"}
# Stateful testing and clients: where a created resource's id comes from.
LINKS: dict[str, list[tuple[str, str, str]]] = {
    "createSnipe": [
        ("GetSnipe", "getSnipe", "snipe_id"),
        ("UpdateSnipe", "updateSnipe", "snipe_id"),
        ("CancelSnipe", "cancelSnipe", "snipe_id"),
    ],
    "createGroup": [
        ("GetGroup", "getGroup", "group_id"),
        ("UpdateGroup", "updateGroup", "group_id"),
        ("DeleteGroup", "deleteGroup", "group_id"),
    ],
}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` -> ``X`` (keeping description, title, examples)."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    rest = [o for o in options if o != {"type": "null"}]
    if len(rest) == len(options):
        return schema
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(rest) == 1:
        return {**rest[0], **outer}
    return {**outer, "anyOf": rest}


def _plain_optional_parameters(spec: dict[str, Any]) -> None:
    """Optional query and header parameters are their type, not ``X | null``:
    an absent parameter is not a null one (typed clients: ``string``, not
    ``string | null``)."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _without_null(parameter["schema"])


def _request_schemas_for_clients(spec: dict[str, Any]) -> None:
    """In request bodies, a field with a default is optional and documented
    by its description (some generators read ``default`` as "always
    present"), and null is offered only where it means something."""
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    bodies: set[str] = set()
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            bodies |= _schema_refs(operation.get("requestBody", {}))
    pending = list(bodies)
    while pending:
        for name in _schema_refs(schemas.get(pending.pop(), {})) - bodies:
            bodies.add(name)
            pending.append(name)
    for name in bodies:
        schema = schemas.get(name, {})
        for field, prop in list(schema.get("properties", {}).items()):
            if (name, field) not in NULLABLE_REQUEST_FIELDS:
                prop = _without_null(prop)
            if "default" in prop:
                default = prop.pop("default")
                text = prop.get("description", "").rstrip(".")
                prop["description"] = (
                    f"{text}. Default: {json.dumps(default)}"
                    if text
                    else f"Default: {json.dumps(default)}"
                )
            schema["properties"][field] = prop
        if name in NON_EMPTY_REQUESTS:
            schema["minProperties"] = 1


def _add_links(spec: dict[str, Any]) -> None:
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            links = LINKS.get(operation.get("operationId", ""))
            if not links:
                continue
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    response["links"] = {
                        name: {
                            "operationId": target,
                            "parameters": {param: f"$response.body#/{param}"},
                        }
                        for name, target, param in links
                    }


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

"""What the local gateway's dev-only routes (``/dev/...``) share.

``POST /dev/token`` (``sandbox.dev_token``) and ``/dev/task-faults``
(``sandbox.dev_task_faults``) exist only on the local stack, never on AWS
(``template.yaml`` and ``docs/openapi.json`` have no ``/dev`` route; a test
checks). They answer in the API's error envelope
(``{"error": {"code", "message", "details"}}``): 405 for another method, 400
for a body that is not JSON, 422 with one entry per bad field
(``details.errors[]``: ``loc``, ``type``, ``message``) for bad input; and CORS
for the web app's origins.

:func:`serve` runs one route: ``methods`` maps each method to a function of the
parsed JSON body (``None`` without one) that returns a :class:`Reply` or raises
:class:`Invalid` with the field errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from api.cors import ConfiguredOriginsCORS
from api.models import ErrorResponse


@dataclass(frozen=True)
class Reply:
    """A route's answer: JSON ``body`` with ``status`` and extra ``headers``."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


class Invalid(Exception):
    """Bad input: 422 with ``errors`` (see :func:`field_error`)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


Method = Callable[[Any], Reply]


def cors_headers(origin: str | None, allowed: Sequence[str]) -> dict[str, str]:
    """CORS response headers for ``origin`` when it is an allowed one, else none
    (the API function's, ``api.cors``)."""
    return ConfiguredOriginsCORS(lambda: allowed).to_dict(origin)


def field_error(loc: Sequence[str], kind: str, message: str) -> dict[str, Any]:
    """One entry of a 422's ``details.errors``: the body field ``loc``."""
    return {"loc": ["body", *loc], "type": kind, "message": message}


def object_errors(body: Any, fields: Collection[str]) -> list[dict[str, Any]]:
    """The errors of a body that is not a JSON object, or of its unknown fields."""
    if not isinstance(body, dict):
        return [field_error([], "model_type", "send a JSON object")]
    return [
        field_error([name], "extra_forbidden", "unknown field")
        for name in sorted(set(body) - set(fields))
    ]


def whole_number(value: Any, low: int, high: int) -> bool:
    """``value`` is a JSON integer (not a boolean) from ``low`` to ``high``."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def serve(
    request: Request, *, origins: Sequence[str], methods: Mapping[str, Method]
) -> Response:
    """Answer ``request`` with the function ``methods`` has for its method."""
    cors = cors_headers(request.headers.get("Origin"), origins)
    allow = ",".join(["OPTIONS", *methods])
    if request.method == "OPTIONS":
        headers = dict(cors)
        if headers:
            headers["Access-Control-Allow-Methods"] = allow
        return Response(status=204, headers=headers)
    method = methods.get(request.method)
    if method is None:
        use = " or ".join(methods)
        return _error(405, "METHOD_NOT_ALLOWED", f"use {use}", {**cors, "Allow": allow})
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return _error(400, "INVALID_JSON", "the request body is not valid JSON", cors)
    try:
        reply = method(body)
    except Invalid as exc:
        return _error(
            422,
            "VALIDATION_FAILED",
            "the request is not valid",
            cors,
            {"errors": exc.errors},
        )
    return Response(
        json.dumps(reply.body),
        status=reply.status,
        content_type="application/json",
        headers={**cors, **reply.headers},
    )


def _error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str],
    details: dict[str, Any] | None = None,
) -> Response:
    return Response(
        json.dumps(ErrorResponse.body(code, message, details)),
        status=status,
        content_type="application/json",
        headers=headers,
    )

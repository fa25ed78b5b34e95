"""What the API accepts as a request, before any route runs.

* Bodies are JSON objects sent as ``application/json`` (a charset parameter is
  fine; no Content-Type at all is read as JSON). Any other media type is 415
  ``UNSUPPORTED_MEDIA_TYPE`` - also ``multipart/form-data`` and form bodies,
  which Powertools would otherwise try to parse. A JSON array, string or
  number where an object is expected is 422 ``VALIDATION_FAILED`` (Powertools
  would validate an array's first element and ignore the rest).
* JSON is parsed with limits: nesting deeper than ``MAX_JSON_DEPTH`` and
  integers longer than ``MAX_INT_DIGITS`` digits are 400 ``INVALID_JSON``
  (Python would raise RecursionError or its int-size ValueError: 500s);
  ``NaN``/``Infinity`` are not JSON and are refused the same way.
* Times in query strings are ISO 8601 with a zone (never a bare number) and
  lie in [``EARLIEST``, ``LATEST``); outside it is 422 ``INVALID_TIME_RANGE``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from workflows.errors import DomainError, Unprocessable

MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 30
JSON_MEDIA_TYPE = "application/json"
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_ISO_PREFIX_LENGTH = len("2026-05-01T00:00")


class InvalidJsonBody(DomainError):
    code = "INVALID_JSON"


class TimeOutOfRange(Unprocessable):
    code = "INVALID_TIME_RANGE"


def parse_json(text: str) -> Any:
    """``json.loads`` within the depth and number limits."""
    _check_depth(text)
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except InvalidJsonBody:
        raise
    except ValueError as exc:  # JSONDecodeError included
        raise InvalidJsonBody("the request body is not valid JSON") from exc


def _check_depth(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InvalidJsonBody(
                    f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels",
                    details={"max_depth": MAX_JSON_DEPTH},
                )
        elif char in "]}":
            depth -= 1


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidJsonBody(
            f"a number in the body has more than {MAX_INT_DIGITS} digits",
            details={"max_digits": MAX_INT_DIGITS},
        )
    return int(text)


def _no_constant(text: str) -> Any:
    raise InvalidJsonBody(f"{text} is not a JSON number")


class JsonObjectBodies(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading only JSON-object bodies."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped __init__

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type") or ""
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and media_type != JSON_MEDIA_TYPE:
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[
                    {
                        "type": "unsupported_content_type",
                        "loc": ("body",),
                        "msg": f"send the body as {JSON_MEDIA_TYPE}",
                        "input": {},
                        "ctx": {},
                    }
                ],
            )
        body = self._parse_json_data(app)
        if body is not None and not isinstance(body, dict):
            raise RequestValidationError(
                [
                    {
                        "type": "model_attributes_type",
                        "loc": ("body",),
                        "msg": "the body must be a JSON object",
                        "input": {},
                    }
                ]
            )
        return body  # None: the body is missing (a field error follows)


def _iso_only(value: Any) -> Any:
    """Only an ISO 8601 date-time string (pydantic would take numbers too)."""
    if not isinstance(value, str) or len(value) < _ISO_PREFIX_LENGTH:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-05-01T00:00:00Z")
    if not (value[:4].isdigit() and value[4] == "-" and value[10] in "Tt "):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-05-01T00:00:00Z")
    return value


def _in_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise TimeOutOfRange(
            "times must lie between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z",
            details={
                "earliest": "1970-01-01T00:00:00Z",
                "latest": "2200-01-01T00:00:00Z",
            },
        )
    return utc


QueryDateTime = Annotated[
    AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_range)
]
